from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        # The inbox's tables (its conversation items, search index and conversation work) are
        # declared beside the code that uses them, which imports messaging.models; importing them
        # here registers them (wecare.dynamo.register) before anything, bootstrap included, reads
        # ALL_MODELS, whether or not the URLs have been loaded yet (without it, a stack whose first
        # request drew the sidebar had no inbox table).
        from messaging import conversation_index, search_index  # noqa: F401
        from messaging.inbox import canned, labels, notes, presence  # noqa: F401
