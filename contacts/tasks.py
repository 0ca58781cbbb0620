from celery import shared_task

from contacts import imports


@shared_task(acks_late=True)
def run_import(import_id: str) -> None:
    imports.run_import(import_id)
