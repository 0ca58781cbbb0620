from django.core.management.base import BaseCommand

from contacts.backfill import backfill
from wecare import audit


class Command(BaseCommand):
    help = (
        "Give contacts written before the consent history one event per channel, from their last-changed "
        "consent record (marked backfilled). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")

    def handle(self, *args, dry_run: bool, **options):
        counts = backfill(dry_run=dry_run)
        if not dry_run:
            audit.record(
                None, "contact.consent_backfill", "contact", "*", via="manage.py backfill_consent_history", **counts
            )
        verb = "would write" if dry_run else "wrote"
        self.stdout.write(
            f"{verb} {counts['written']} events; {counts['present']} channels already had history, "
            f"{counts['no-record']} were never changed"
        )
