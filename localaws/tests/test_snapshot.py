"""The local stack keeps its data across restarts by saving moto's contents and loading them back."""

import urllib.request

import pytest
from django.conf import settings
from django.core.management import call_command

from contacts import actions, queries
from wecare.aws import client
from wecare.bootstrap import bootstrap
from wecare.errors import NotFound

pytestmark = pytest.mark.django_db


def test_a_contact_and_an_s3_object_survive_a_restart_of_the_emulator(operator, new_phone, tmp_path):
    contact = actions.create_contact({"phone": new_phone(), "name": "Survivor"}, user=operator, source="test")
    client("s3").put_object(Bucket=settings.REPORT_BUCKET, Key="snapshot-test.txt", Body=b"kept")
    path = tmp_path / "snapshot.json"
    call_command("dev_snapshot", "save", str(path))

    # What a restart of moto does: everything is gone.
    urllib.request.urlopen(urllib.request.Request(f"{settings.AWS_ENDPOINT_URL}/moto-api/reset", method="POST"))
    bootstrap()
    with pytest.raises(NotFound):
        queries.get_contact(contact.contactId)

    call_command("dev_snapshot", "load", str(path))
    assert queries.get_contact(contact.contactId).name == "Survivor"
    assert client("s3").get_object(Bucket=settings.REPORT_BUCKET, Key="snapshot-test.txt")["Body"].read() == b"kept"


def test_dev_snapshot_refuses_to_run_against_real_aws(settings, tmp_path):
    from django.core.management.base import CommandError

    settings.AWS_ENDPOINT_URL = None
    with pytest.raises(CommandError, match="only against the local emulator"):
        call_command("dev_snapshot", "save", str(tmp_path / "x.json"))
