"""The hourly check of SMS consent against AWS's SMS opt-out list (the local fake over HTTP)."""

from __future__ import annotations

import pytest

from contacts import actions
from contacts.queries import consent_history, get_contact
from contacts.sms_opt_out_sync import reconcile, reconcile_sms_opt_outs

pytestmark = pytest.mark.django_db


def test_a_listed_number_still_opted_in_is_turned_off_by_the_provider(operator, new_phone, fake_aws_clean):
    listed = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    free = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    fake_aws_clean.opt_out(listed.phone)  # listed by AWS (the console, a keyword we never saw)
    fake_aws_clean.opt_out(new_phone())  # a number that is nobody's contact

    summary = reconcile_sms_opt_outs.delay().get()

    assert summary["turned_off"] == 1 and summary["no_contact"] == 1
    assert get_contact(listed.contactId).optInSms is False
    assert get_contact(free.contactId).optInSms is True
    [event, _given] = consent_history(listed.contactId, channel="sms")
    assert (event.optedIn, event.actor, event.source) == (False, "provider", "sms_optout_list")
    assert event.evidence["endUserOptedOut"] is True and event.evidence["optOutList"] == "Default"


def test_running_it_again_changes_nothing(operator, new_phone, fake_aws_clean):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    fake_aws_clean.opt_out(contact.phone)
    reconcile()

    again = reconcile()

    assert (again["turned_off"], again["already_off"]) == (0, 1)
    assert len(consent_history(contact.contactId, channel="sms")) == 2  # given, then withdrawn: once


def test_it_reads_every_page_of_the_list(operator, new_phone, fake_aws_clean):
    # The fake answers 25 numbers a page without MaxResults, as AWS does: 30 take two pages.
    numbers = [new_phone() for _ in range(30)]
    for number in numbers:
        fake_aws_clean.opt_out(number)
    last = actions.create_contact({"phone": numbers[-1], "optInSms": True}, user=operator, source="test")

    assert reconcile()["listed"] == 30
    assert get_contact(last.contactId).optInSms is False


def test_a_start_between_reading_the_list_and_reaching_the_number_is_not_undone(
    operator, new_phone, fake_aws_clean, monkeypatch
):
    # The list is read page by page while customers keep writing: the number was listed when its
    # page was read, then the customer's START took it off and turned SMS consent on. Turning it
    # off again from the stale page would lose the customer's own opt-in.
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    stale = [{"OptedOutNumber": contact.phone, "EndUserOptedOut": True}]
    monkeypatch.setattr("contacts.sms_opt_out_sync.opted_out_numbers", lambda: iter(stale))

    summary = reconcile()

    assert summary["turned_off"] == 0
    assert get_contact(contact.contactId).optInSms is True
