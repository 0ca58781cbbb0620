"""Contacts' Celery tasks, gathered for autodiscovery; each is defined beside the work it runs."""

from contacts.imports import run_import_task

__all__ = ["run_import_task"]
