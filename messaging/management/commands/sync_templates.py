from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from messaging.outbound.template_catalog import sync_templates


class Command(BaseCommand):
    help = (
        "Copy the WhatsApp templates of every linked business account "
        "into TEMPLATE_EUM items (also runs every 15 minutes on beat)."
    )

    def handle(self, *args, **options):
        try:
            counts = sync_templates()
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"template sync failed: {exc}") from None
        self.stdout.write(f"synced {counts['templates']} templates from {counts['wabas']} business account(s)")
