"""manage.py bulk_report JOB_ID: write the job's CSV report to the report bucket again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bulk.reports import write_report
from wecare.errors import NotFound


class Command(BaseCommand):
    help = "Regenerate a bulk job's per-recipient CSV report in the report bucket."

    def add_arguments(self, parser):
        parser.add_argument("job_id")

    def handle(self, *args, job_id: str, **options):
        try:
            key = write_report(job_id)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"report written: {key}")
