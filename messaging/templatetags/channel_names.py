"""``{{ channel|channel_name }}``: a channel's name as a person writes it ("WhatsApp", not the code
"whatsapp"), for the pages that show a conversation's or a job's channel."""

from django import template

from messaging.channels import CHANNEL_NAMES

register = template.Library()


@register.filter(name="channel_name")
def channel_name(value: object) -> str:
    """The channel's name; an unknown value as it is."""
    return CHANNEL_NAMES.get(str(value), str(value or ""))
