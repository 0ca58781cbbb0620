"""`manage.py refresh_business_numbers`: the WhatsApp numbers' display names and phones from AWS, after
`bootstrap_aws` on a new deployment (beat then refreshes them hourly: docs/design/business-numbers.md)."""

from django.core.management.base import BaseCommand, CommandError

from messaging import business_numbers
from messaging.channels import Channel, allowed_senders


class Command(BaseCommand):
    help = (
        "Copy each allowlisted WhatsApp number's display name, phone and quality rating from AWS "
        "(GetLinkedWhatsAppBusinessAccountPhoneNumber; also runs hourly on beat)."
    )

    def handle(self, *args, **options):
        wanted = len(allowed_senders(Channel.WHATSAPP))
        refreshed = business_numbers.refresh_from_aws()
        self.stdout.write(f"refreshed {refreshed} of {wanted} WhatsApp number(s) from AWS")
        if refreshed < wanted:
            raise CommandError("some numbers were not refreshed: see the log's warnings (not linked, or refused)")
