from celery import shared_task

from messaging import outbound
from messaging.inbound.tasks import fetch_inbound_media, process_inbound_event  # noqa: F401  (registered via autodiscovery of this module)
from messaging.autoreply import after_inbound  # noqa: F401  (workers find tasks in <app>.tasks)


@shared_task(acks_late=True, name="messaging.send_outbound")
def send_outbound(message_id: str) -> str:
    # Idempotent: the message is claimed queued -> sending before any provider call, so a
    # redelivered task (worker lost mid-way) finds it claimed and does nothing.
    return outbound.process(message_id)


@shared_task(name="messaging.sync_templates")
def sync_templates() -> dict:
    from messaging.templates_catalog import sync_templates as run

    return run()
