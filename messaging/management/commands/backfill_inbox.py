from django.core.management.base import BaseCommand

from messaging.inbox.backfill import backfill
from wecare import audit


class Command(BaseCommand):
    help = (
        "Give the one inbox an item for each WhatsApp, SMS and email conversation recorded before it "
        "existed (archived ones become resolved). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")

    def handle(self, *args, dry_run: bool, **options):
        counts = backfill(dry_run=dry_run)
        if not dry_run:
            audit.record(None, "inbox.backfill", "conversation", "*", via="manage.py backfill_inbox", **counts)
        verb = "would write" if dry_run else "wrote"
        self.stdout.write(f"{verb} {counts['written']} conversations; {counts['present']} were in the inbox already")
