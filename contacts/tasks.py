"""Contacts' Celery tasks, gathered for autodiscovery; each is defined beside the work it runs."""

from contacts.imports import run_import_task
from contacts.sms_opt_out_sync import reconcile_sms_opt_outs

__all__ = ["reconcile_sms_opt_outs", "run_import_task"]
