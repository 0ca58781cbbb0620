"""One-click unsubscribe (RFC 8058): a bulk email sent LIVE through moto's SES carries the link,
read back from the mail moto keeps; a POST of List-Unsubscribe=One-Click to it turns the email
opt-in off without a login; the page for people; forged, altered and expired links refused."""

from __future__ import annotations

import email
import json
import urllib.request
from email import policy
from email.message import EmailMessage

import pytest
from django.conf import settings
from django.core import signing

from bulk import actions as bulk_actions
from bulk import sending
from bulk.audience import AudienceSpec
from bulk.queries import all_recipients
from contacts import actions, unsubscribe
from contacts.models import Contact
from contacts.queries import consent_history
from messaging.models import Message

pytestmark = pytest.mark.django_db
ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://app.example.com"
    return settings.SITE_URL


@pytest.fixture
def customer(operator, new_email):
    data = {"name": "Ravi", "email": new_email(), "optInEmail": True, "phone": None}
    return actions.create_contact(data, user=operator, source="test")


def mail_to(address: str) -> list[EmailMessage]:
    """The raw mail moto's SES kept for ``address``, parsed as a mail client would."""
    data = json.loads(urllib.request.urlopen(f"{settings.AWS_ENDPOINT_URL}/moto-api/data.json").read())
    return [
        email.message_from_string(m["raw_data"], policy=policy.default)  # type: ignore[misc]
        for m in data["ses"].get("RawMessage", [])
        if address in m["destinations"]
    ]


@pytest.fixture
def bulk_email(settings, site, operator, monkeypatch):
    """Send one bulk email job LIVE through moto's SES, its chunks run here in the test."""
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.RATE_LIMIT_EMAIL = 1000
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))

    def send(*contacts: Contact) -> list[Message]:
        job = bulk_actions.start_job(
            AudienceSpec(contact_ids=[c.contactId for c in contacts]),
            {"subject": "Diwali offers", "text": "20% off this weekend", "html": "<p>20% off this weekend</p>"},
            channel="email",
            sender=None,
            user=operator,
            confirm=True,
            previewed_count=len(contacts),
        )
        for args in chunks:
            sending.run_chunk(*args)
        return [Message.get(r.messageId, consistent_read=True) for r in all_recipients(job.jobId)]

    return send


def path_of(header: str) -> str:
    """The path of the https URL in a List-Unsubscribe header ("<https://…/u/…>")."""
    url = header.strip().removeprefix("<").removesuffix(">")
    assert url.startswith("https://app.example.com/u/"), header
    return url.removeprefix("https://app.example.com")


def test_a_bulk_email_carries_the_one_click_headers_and_its_post_turns_email_off(client, customer, bulk_email):
    [message] = bulk_email(customer)
    assert message.status == "sent", message.errorDetails
    [mail] = mail_to(customer.email)
    assert mail["List-Unsubscribe-Post"] == ONE_CLICK
    assert mail["Subject"] == "Diwali offers"
    assert mail.get_body(("plain",)).get_content().strip() == "20% off this weekend"
    assert "https" in mail["List-Unsubscribe"] and "mailto:" not in mail["List-Unsubscribe"]

    # What Gmail does: POST the body, no cookie, no login.
    response = client.post(
        path_of(mail["List-Unsubscribe"]), data=ONE_CLICK, content_type=FORM, HTTP_USER_AGENT="Gmail-Unsubscribe/1.0"
    )

    assert response.status_code == 200
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is False
    [event, _given] = consent_history(customer.contactId, "email")
    assert (event.optedIn, event.actor, event.source) == (False, "customer", "unsubscribe_link")
    assert event.evidence["messageId"] == message.messageId
    assert event.evidence["userAgent"] == "Gmail-Unsubscribe/1.0"
    assert len(event.evidence["link"]) == 32 and event.evidence["link"] not in mail["List-Unsubscribe"]


def test_an_email_to_one_customer_carries_no_list_headers(client_for, operator, customer, site, settings):
    settings.SEND_MODE = "LIVE"
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": customer.contactId, "channel": "email", "subject": "Your invoice", "text": "Attached"},
        content_type="application/json",
    )
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert "Simple" in message.providerRequest[0]["params"]["Content"]  # correspondence, not a mailing list


def test_a_second_unsubscribe_changes_nothing(client, customer, site):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    assert client.post(path, data=ONE_CLICK, content_type=FORM).status_code == 200
    history = consent_history(customer.contactId, "email")

    again = client.post(path, data=ONE_CLICK, content_type=FORM)

    assert again.status_code == 200
    assert [e.eventKey for e in consent_history(customer.contactId, "email")] == [e.eventKey for e in history]


def test_the_page_shows_a_button_that_unsubscribes_and_then_confirms(client, customer, site):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)

    page = client.get(path)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Stop receiving email messages" in html
    assert 'name="List-Unsubscribe" value="One-Click"' in html and 'method="post"' in html
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True  # a GET changes nothing

    done = client.post(path, {"List-Unsubscribe": "One-Click"})  # the page's form, as a browser sends it
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert "Already unsubscribed" in client.get(path).content.decode()


def test_a_forged_link_is_refused_with_a_page_that_says_so(client, customer, site):
    forged = signing.dumps({"c": customer.contactId, "ch": "email"}, salt=unsubscribe.SALT, key="not-our-secret")
    altered = unsubscribe.token(customer.contactId, "email")[:-3] + "abc"
    other_salt = signing.dumps({"c": customer.contactId, "ch": "email"}, salt="wecare.cursor")
    for token in (forged, altered, other_salt, "nonsense", "a" * 500):
        for response in (client.get(f"/u/{token}"), client.post(f"/u/{token}", data=ONE_CLICK, content_type=FORM)):
            assert response.status_code == 400, token
            assert "This link is not valid" in response.content.decode()
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_an_expired_link_is_refused_with_a_clear_message(client, customer, site, settings, monkeypatch):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    later = settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS * 86400 + 60
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + later)

    for response in (client.get(path), client.post(path, data=ONE_CLICK, content_type=FORM)):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_a_link_still_works_after_sixty_days(client, customer, site, monkeypatch):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 61 * 86400)

    assert client.post(path, data=ONE_CLICK, content_type=FORM).status_code == 200
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is False


def test_a_post_without_one_click_changes_nothing(client, customer, site):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    response = client.post(path, data="something=else", content_type=FORM)
    assert response.status_code == 400 and "Nothing was changed" in response.content.decode()
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_an_oversized_post_is_refused_before_it_is_read(client, customer, site):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    response = client.post(path, data=ONE_CLICK + "&x=" + "a" * 10_000, content_type=FORM)
    assert response.status_code == 413
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_a_link_of_a_deleted_contact_answers_without_an_error(client, operator, customer, site):
    path = unsubscribe.url(customer.contactId, "email").removeprefix(site)
    actions.delete_contact(customer.contactId, user=operator)
    assert client.get(path).status_code == 200
    assert client.post(path, data=ONE_CLICK, content_type=FORM).status_code == 200


def test_a_bulk_email_is_not_sent_without_site_url(settings, customer, bulk_email):
    settings.SITE_URL = ""
    [message] = bulk_email(customer)
    assert message.status == "failed" and message.errorDetails["code"] == "NO_UNSUBSCRIBE_LINK"
    assert mail_to(customer.email) == []


def test_in_dry_run_the_bulk_email_is_recorded_with_its_headers_as_ses_would_get_it(
    settings, site, operator, customer, monkeypatch
):
    # DRY_RUN's stand-in checks the Raw request against SES's model and records it, sending nothing.
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))
    job = bulk_actions.start_job(
        AudienceSpec(contact_ids=[customer.contactId]),
        {"subject": "Offers", "text": "Hello"},
        channel="email",
        sender=None,
        user=operator,
        confirm=True,
        previewed_count=1,
    )
    for args in chunks:
        sending.run_chunk(*args)
    [recipient] = all_recipients(job.jobId)
    message = Message.get(recipient.messageId, consistent_read=True)
    assert message.status == "sent" and message.dryRun
    raw = message.providerRequest[0]["params"]["Content"]["Raw"]["Data"]
    mail = email.message_from_string(raw, policy=policy.default)
    assert mail["List-Unsubscribe-Post"] == ONE_CLICK
    link = unsubscribe.read(path_of(mail["List-Unsubscribe"]).removeprefix("/u/"))
    assert (link.contact_id, link.channel, link.message_id) == (customer.contactId, "email", message.messageId)
    assert mail_to(customer.email) == []
