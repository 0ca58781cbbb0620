"""``{{ sender|business_number }}``: a business number by its name (messaging/business_numbers.py)."""

from django import template

from messaging import business_numbers

register = template.Library()


@register.filter(name="business_number")
def business_number(value: object) -> str:
    return business_numbers.label(str(value or ""))
