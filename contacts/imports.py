"""CSV imports of contacts: the upload is checked and stored, then a Celery task (defined here,
beside the work it runs) imports it on a worker while the page polls the progress. Why it runs in
the background and how a re-import creates nothing twice: docs/design/contacts.md."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from celery import shared_task
from django.conf import settings
from pynamodb.expressions.update import Action
from ulid import ULID

from contacts import actions, csv_io
from contacts.models import ContactImport
from contacts.queries import find_live_by_email, find_live_by_phone
from contacts.validation import InvalidValue, normalise_email, normalise_phone, visible_text
from wecare import audit
from wecare.aws import client
from wecare.dynamo import now
from wecare.errors import Conflict, FieldErrors, NotFound

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100  # rows between progress writes: one write per 100 rows, not per row
MAX_ERRORS_KEPT = 1000  # an item is at most 400 KB; the rest are counted, not listed
MAX_FILE_NAME = 200


def start_import(content: bytes, *, user: Any, file_name: str | None = None) -> ContactImport:
    """Check the file's shape now (so a wrong file is refused on the page), store it, queue it."""
    try:
        rows = csv_io.parse(content)
    except csv_io.BadFile as exc:
        raise FieldErrors({"file": str(exc)}) from None
    import_id = str(ULID())
    key = f"{settings.IMPORT_PREFIX}{import_id}.csv"
    client("s3").put_object(Bucket=settings.REPORT_BUCKET, Key=key, Body=content, ContentType="text/csv")
    job = ContactImport(
        importId=import_id,
        createdBy=audit.actor_id(user),
        createdAt=now(),
        s3Key=key,
        totalRows=len(rows),
        fileName=visible_text(file_name or "")[:MAX_FILE_NAME] or None,
    )
    job.save()
    audit.record(user, "contact.import.start", "contact_import", import_id, rows=len(rows))
    run_import_task.delay(import_id)  # after the writes it reads
    return job


def rejected_csv(job: ContactImport) -> Iterator[str]:
    """The refused rows of the stored file, with line and reason (contacts.csv_io.rejected_rows)."""
    body = client("s3").get_object(Bucket=settings.REPORT_BUCKET, Key=job.s3Key)["Body"].read()
    return csv_io.rejected_rows(body, list(job.errorRows or []))


def get_import(import_id: str) -> ContactImport:
    try:
        return ContactImport.get(import_id, consistent_read=True)
    except ContactImport.DoesNotExist:
        raise NotFound(f"no import with id {import_id}") from None


class _Importer:
    def __init__(self, job: ContactImport, user: Any):
        self.job = job
        self.user = user
        self.created = self.existing = 0
        self.errors: list[dict] = []
        self.error_count = 0

    def _already_there(self, data: dict[str, Any]) -> bool:
        """True when the row's phone/email belong to one live contact already (a re-import)."""
        try:
            phone = normalise_phone(data["phone"]) if data.get("phone") else None
            email = normalise_email(data["email"]) if data.get("email") else None
        except InvalidValue:
            return False
        found = {
            c.contactId
            for c in (find_live_by_phone(phone) if phone else None, find_live_by_email(email) if email else None)
            if c
        }
        return len(found) == 1

    def handle(self, row: csv_io.Row) -> None:
        if row.error:
            return self._error(row.line, row.error)
        assert row.data is not None
        try:
            actions.create_contact(row.data, user=self.user, source=f"csv:{self.job.importId}", audited=False)
            self.created += 1
        except FieldErrors as exc:
            self._error(row.line, "; ".join(f"{f}: {m}" for f, m in exc.errors.items()))
        except Conflict as exc:
            if self._already_there(row.data):
                self.existing += 1
            else:
                self._error(row.line, str(exc))

    def _error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"line": line, "reason": reason})

    def save_progress(self, processed: int, *, status: str = "running") -> None:
        actions_: list[Action] = [
            ContactImport.processedRows.set(processed),
            ContactImport.createdCount.set(self.created),
            ContactImport.existingCount.set(self.existing),
            ContactImport.errorRows.set(self.errors),
            ContactImport.status.set(status),
        ]
        if status in ("completed", "failed"):
            actions_.append(ContactImport.finishedAt.set(now()))
        self.job.update(actions=actions_)


def run_import(import_id: str) -> ContactImport:
    """Process an import from its stored file. Safe to run again: created rows then count as
    already there."""
    job = get_import(import_id)
    body = client("s3").get_object(Bucket=settings.REPORT_BUCKET, Key=job.s3Key)["Body"].read()
    rows = csv_io.parse(body)
    importer = _Importer(job, user=_ImportUser(job.createdBy))
    importer.save_progress(0)
    index = 0
    try:
        for index, row in enumerate(rows, start=1):
            importer.handle(row)
            if index % PROGRESS_EVERY == 0:
                importer.save_progress(index)
    except Exception:
        log.exception("contact import failed", extra={"import_id": import_id, "line": index + 1})
        # Say so on the progress page rather than leave it "running" for ever; rows done stay done,
        # and importing the file again picks up the rest (created rows count as already there).
        # If DynamoDB itself is what failed, this write can fail too: keep the original error.
        try:
            importer.save_progress(max(index - 1, 0), status="failed")
        except Exception:  # the import's own error is the one to raise
            log.warning("could not mark the import failed", extra={"import_id": import_id}, exc_info=True)
        raise
    importer.save_progress(len(rows), status="completed")
    audit.record(
        importer.user,
        "contact.import.finish",
        "contact_import",
        import_id,
        created=importer.created,
        existing=importer.existing,
        errors=importer.error_count,
    )
    # Not "created": that is a LogRecord attribute (its timestamp), and logging refuses to
    # overwrite it with a KeyError, which failed the task after the import had finished.
    counts = {
        "created_count": importer.created,
        "existing_count": importer.existing,
        "error_count": importer.error_count,
    }
    log.info("contact import finished", extra={"import_id": import_id, **counts})
    return job


# The registered name is the one this task had when it lived in contacts/tasks.py: queued
# messages carry it.
@shared_task(acks_late=True, name="contacts.tasks.run_import")
def run_import_task(import_id: str) -> None:
    run_import(import_id)


class _ImportUser:
    """The person who started the import, as the audit trail names them on the worker."""

    is_authenticated = True

    def __init__(self, username: str):
        self.username = username

    def get_username(self) -> str:
        return self.username
