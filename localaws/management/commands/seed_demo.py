"""Local stack only: the three demo users (viewer, operator, admin) with one password, the WhatsApp
numbers' names from AWS (the local fake), names for the other demo business numbers that have none,
and a few demo contacts when there are none. `make run` runs it at every start (docs/local-stack.md)."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from ai import agent_settings
from contacts import actions
from contacts.queries import list_contacts
from messaging import business_numbers
from wecare.roles import Role

DEMO_CONTACTS: list[dict[str, Any]] = [
    {
        "name": "Asha Rao",
        "phone": "+919812345670",
        "email": "asha.rao@example.com",
        "optInWhatsApp": True,
        "optInSms": True,
        "optInEmail": True,
    },
    {"name": "Ben Carter", "phone": "+14155550199", "optInSms": True},
    {"name": "Chloé Martin", "email": "chloe.martin@example.org", "optInEmail": True},
    {"name": "Dev Patel", "phone": "+447911123456", "optInWhatsApp": True},
    {"name": "Elena García", "phone": "+34612345678", "email": "elena@example.net"},
    {
        "name": "Farah Khan",
        "phone": "+971501234567",
        "optInWhatsApp": True,
        "optInEmail": True,
        "email": "farah.khan@example.com",
    },
]


# Names for the allowlisted senders, in the allowlist's order per channel (messaging/channels.py):
# the SMS pool and its numbers, then the SES sender. The WhatsApp numbers are named by AWS (here
# the local fake), whose names win over an admin's (docs/design/business-numbers.md).
DEMO_NUMBER_NAMES = {
    "sms": [("Promotions", ""), ("Replies", "")],
    "email": [("Hello", "")],
}


def name_demo_numbers() -> list[str]:
    """Give each allowlisted sender with no name yet its demo name; a name an admin set is kept."""
    named = []
    seen: dict[str, int] = {}
    for number in business_numbers.allowlisted():
        index = seen[number.channel] = seen.get(number.channel, -1) + 1
        choices = DEMO_NUMBER_NAMES.get(number.channel, [])
        if number.name or index >= len(choices):
            continue
        name, phone = choices[index]
        named.append(business_numbers.save(number.sender, name=name, phone=phone, user=None).label)
    return named


def switch_on_agent() -> bool:
    """The demo shows suggested replies: automation goes on at the first start; what an admin
    chose later (the settings' version moved) is kept."""
    if agent_settings.current().version:
        return False
    agent_settings.set_automation(True, user=None, expected_version=0)
    return True


class Command(BaseCommand):
    help = "Create the demo users (viewer, operator, admin) and a few demo contacts. Local stack only."

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True, help="password for the three demo users")

    def handle(self, *args, password: str, **options):
        if settings.ENVIRONMENT != "development":
            raise CommandError(f"seed_demo only runs with ENVIRONMENT=development (it is {settings.ENVIRONMENT})")
        User = get_user_model()
        for role in Role:
            group, _ = Group.objects.get_or_create(name=role.group_name)
            user, created = User.objects.get_or_create(
                username=role.label, defaults={"email": f"{role.label}@wecare.digital"}
            )
            user.set_password(password)
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.save()
            user.groups.set([group])
            self.stdout.write(f"{'created' if created else 'updated'} demo user {role.label} ({role.group_name})")
        refreshed = business_numbers.refresh_from_aws()
        self.stdout.write(f"named {refreshed} WhatsApp number(s) from AWS (the local fake)")
        for label in name_demo_numbers():
            self.stdout.write(f"named demo business number: {label}")
        if switch_on_agent():
            self.stdout.write("agent automation switched on: customers' WhatsApp texts get suggested replies")
        if list_contacts(limit=1).items:
            self.stdout.write("contacts exist already: no demo contacts added")
            return
        for data in DEMO_CONTACTS:
            actions.create_contact(data, user=None, source="demo")
        self.stdout.write(f"added {len(DEMO_CONTACTS)} demo contacts")
