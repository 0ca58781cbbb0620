"""The AI's Celery tasks, gathered so Celery's autodiscovery finds them; each lives beside the work
it runs. Nothing imports this module."""

from ai.pipeline.task import draft_reply

__all__ = ["draft_reply"]
