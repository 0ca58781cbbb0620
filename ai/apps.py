from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "Agent"

    def ready(self) -> None:
        # Imported here, as Django requires: connecting to messaging's signals and registering the
        # inbox's panels needs the app registry, which is ready only now. Each sub-package wires
        # its own part (docs/design/agent.md, "How the agent hangs off the inbox").
        from ai.leads import wiring as lead_wiring
        from ai.pipeline import wiring as pipeline_wiring
        from ai.review import dashboard
        from ai.suggestions import wiring as suggestion_wiring

        pipeline_wiring.connect()
        suggestion_wiring.connect()
        lead_wiring.connect()
        dashboard.connect()
