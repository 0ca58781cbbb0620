"""How many examples the property tests (hypothesis, schemathesis) run, chosen by environment.

``HYPOTHESIS_PROFILE`` names the profile; the root ``conftest.py`` loads it before any test module
is imported. Unset, hypothesis's own choice stands: ``default`` on a workstation, its ``ci`` profile
when it sees a CI machine; both run every test's full count. ``fast`` (``make test-fast``) runs a
tenth of it. A test that asks for more or fewer than the profile's count writes its full count
through ``examples()``, so each profile keeps the proportions between tests.
"""

from __future__ import annotations

import os

from hypothesis import settings

FULL = 100  # examples per test under `default` and `ci` (hypothesis's default)
FAST_SHARE = 10  # `fast` runs one example in this many

# The built-in profiles as they are (every count in full) plus the quick one. Its parent is
# whichever built-in profile hypothesis loaded, so a CI machine keeps ci's derandomized runs.
settings.register_profile("fast", settings.default, max_examples=FULL // FAST_SHARE)


def load_from_environment() -> None:
    """Load the profile ``HYPOTHESIS_PROFILE`` names, if it names one."""
    name = os.environ.get("HYPOTHESIS_PROFILE")
    if name:
        settings.load_profile(name)


def examples(full_count: int) -> int:
    """``full_count`` under a full profile, the same share of it as the loaded profile takes of
    ``FULL`` (at least one example)."""
    return max(1, full_count * settings.default.max_examples // FULL)
