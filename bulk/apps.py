from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "bulk"

    def ready(self) -> None:
        # messaging announces, bulk listens: messaging never imports bulk (docs/design/README.md).
        from bulk.template_pause import on_template_unusable  # models are ready only now
        from messaging.signals import template_unusable

        template_unusable.connect(on_template_unusable, dispatch_uid="bulk.template_pause")
