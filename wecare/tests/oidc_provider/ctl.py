"""Administer the test provider from outside its process (it has its own settings and database).

python -m wecare.tests.oidc_provider.ctl migrate
python -m wecare.tests.oidc_provider.ctl client CLIENT_ID SECRET REDIRECT_URI
python -m wecare.tests.oidc_provider.ctl user USERNAME PASSWORD EMAIL [GROUP ...]
"""

from __future__ import annotations

import os
import sys

import django


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def client(client_id: str, secret: str, redirect_uri: str) -> None:
    from oauth2_provider.models import Application

    app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
    app.name = "WECARE.DIGITAL (tests)"
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.algorithm = Application.RS256_ALGORITHM
    app.redirect_uris = redirect_uri
    app.client_secret = secret  # hashed on save
    app.skip_authorization = False  # the consent page is part of the flow under test
    app.save()


def user(username: str, password: str, email: str, *groups: str) -> None:
    from django.contrib.auth.models import Group, User

    person = User.objects.filter(username=username).first() or User(username=username)
    person.email = email
    person.set_password(password)
    person.save()
    person.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])


COMMANDS = {"migrate": migrate, "client": client, "user": user}


def main(argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "wecare.tests.oidc_provider.settings"
    django.setup()
    COMMANDS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
