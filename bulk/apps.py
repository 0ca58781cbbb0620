from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "bulk"

    def ready(self) -> None:
        # Imported here, as Django requires (models are ready only now). messaging announces and
        # keeps registries, bulk listens and registers: messaging never imports bulk
        # (docs/design/README.md).
        from bulk import throughput
        from bulk.template_pause import on_template_unusable
        from messaging.signals import template_unusable

        throughput.connect()  # the dashboard's bulk section
        template_unusable.connect(on_template_unusable, dispatch_uid="bulk.template_pause")
