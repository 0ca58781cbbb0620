"""The local stack's Django app: only ``localaws.settings`` (the dev stack) and the test settings
install it, for its commands (``dev_snapshot``, ``seed_demo``, ``simulate_inbound``). Production
settings never name it."""

from django.apps import AppConfig


class LocalAwsConfig(AppConfig):
    name = "localaws"
    verbose_name = "Local AWS (development and tests only)"
