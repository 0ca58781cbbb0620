"""Local stack only: a few customers writing in, on each channel, when the inbox has no
conversation yet, so `make run` opens on a useful inbox. Every message goes the real way in
(``simulate_inbound``: SNS to the webhook, the inbound workers, the same recording as production),
from the demo contacts seed_demo adds (docs/local-stack.md)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from messaging.conversation_index import InboxConversation

WHATSAPP = [
    ("+919812345670", "Asha Rao", "Hello! Is my order 1042 ready for pickup?"),
    ("+447911123456", "Dev Patel", "Can I change the delivery address to my office?"),
    ("+971501234567", "Farah Khan", "Do you have the blue one in size M?"),
]
SMS = [("+14155550199", "Are you open on Sunday?")]
EMAIL = [
    ("chloe.martin@example.org", "Refund for order 1038", "Hello, the parcel arrived damaged. Can I get a refund?"),
]


class Command(BaseCommand):
    help = "Customers write in on WhatsApp, SMS and email when the inbox is empty. Local stack only."

    def handle(self, *args, **options):
        if settings.ENVIRONMENT != "development" or not settings.AWS_ENDPOINT_URL:
            raise CommandError(
                "seed_inbox only runs on the local stack (ENVIRONMENT=development with AWS_ENDPOINT_URL)"
            )
        if next(iter(InboxConversation.scan(limit=1)), None) is not None:
            self.stdout.write("the inbox has conversations already: no demo messages sent")
            return
        for phone, name, text in WHATSAPP:
            call_command("simulate_inbound", sender=phone, name=name, text=text, stdout=self.stdout)
        for phone, text in SMS:
            call_command("simulate_inbound", sender=phone, sms=text, stdout=self.stdout)
        for address, subject, text in EMAIL:
            call_command("simulate_inbound", sender=address, email=True, subject=subject, text=text, stdout=self.stdout)
        self.stdout.write("demo customers wrote in on WhatsApp, SMS and email: see DM")
