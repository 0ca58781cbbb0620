from django.apps import AppConfig


class WecareConfig(AppConfig):
    name = "wecare"
    verbose_name = "WECARE.DIGITAL platform"

    def ready(self) -> None:
        from wecare import checks, signals  # noqa: F401  (registers checks and login hooks)
