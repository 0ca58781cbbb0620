from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        # The tables of the inbox's conversation work are declared beside the code that uses them;
        # importing them here registers them (wecare.dynamo.register) before anything, bootstrap
        # included, reads ALL_MODELS, whether or not the URLs have been loaded yet.
        from messaging.inbox import canned, labels, notes, presence  # noqa: F401
