"""Structured logs: every line carries the request id and the CloudWatch log group.

Output is one JSON object per line on stdout; in production the container's log driver ships it
to the log group named in each line (``LOG_GROUP``, default /base-wecare-digital/common).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from django.conf import settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.log_group = settings.LOG_GROUP
        return True
