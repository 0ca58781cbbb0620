"""Celery finds tasks in ``<app>.tasks``: this module only imports the modules that define
messaging's tasks, each beside the work it runs, so a worker registers them all."""

from messaging import business_numbers, search_index  # noqa: F401  messaging.refresh_business_numbers, messaging.index_message_words
from messaging.autoreply import replies  # noqa: F401  messaging.after_inbound
from messaging.inbound import (
    media,  # noqa: F401  messaging.fetch_inbound_media
    routing,  # noqa: F401  every inbound kind's task (messaging.process_*)
)
from messaging.outbound import (  # noqa: F401
    send,  # messaging.send_outbound
    template_catalog,  # messaging.sync_templates
    tier_metric,  # messaging.measure_tier_use
)
