#!/usr/bin/env python
"""Django's command-line utility. A configuration error prints one line and exits 2."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    from wecare.env import run_or_exit

    run_or_exit(main)
