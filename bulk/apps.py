from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "bulk"

    def ready(self) -> None:
        # Imported here, as Django requires: the dashboard's registry is messaging's, and bulk
        # adds its section to it (messaging never imports bulk).
        from bulk import throughput

        throughput.connect()
