"""Inbound email end to end: a mail SES received (stored in moto's S3 by the receipt rule's S3
action, announced by its SNS notification) posted signed to the SNS webhook, processed (eagerly)
into an email thread; our reply through moto's SES carries the threading headers, and the
customer's answer to it joins the thread. Mail samples: messaging/tests/fixtures/email/README.md.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
from django.conf import settings

from contacts import consent
from contacts.models import Contact
from contacts.queries import find_live_by_email
from localaws import ses_receiving
from messaging import email_html, email_threads
from messaging.inbound import email_attachments, email_mime
from messaging.models import MediaFile, Message
from messaging.outbound import records
from messaging.outbound.send import process
from messaging.tests.sns_signing import (
    notification,
    sns_test_certificates,  # noqa: F401 - a fixture, used through pytestmark
)
from messaging.threads import EmailMessageId, Thread
from wecare import dlq
from wecare.aws import client as aws_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
URL = "/webhooks/sns/"
FIXTURES = Path(__file__).parent / "fixtures"
CPYTHON_SAMPLE = FIXTURES / "email" / "cpython_msg_26.eml"
TASK = "messaging.process_email_inbound"


def deliver(client, body: str) -> dict:
    """SNS delivering SES's notification to our webhook; the task runs eagerly in the request."""
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post(URL, data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200, response.content
    return envelope


def recorded(ses_message_id: str) -> Message:
    item = EmailMessageId.get(f"received#{ses_message_id}", consistent_read=True)
    return Message.get(item.messageId, consistent_read=True)


def thread_messages(thread_id: str) -> list[Message]:
    return list(Message.by_thread.query(thread_id))


def customer_mail(new_email, **fields) -> tuple[str, bytes]:
    sender = new_email()
    return sender, ses_receiving.mime(sender=sender, to=settings.EMAIL_RECEIVING_ADDRESSES[0], **fields)


def parked(body: str, envelope: dict) -> dlq.DLQMessage:
    wanted = dlq.fingerprint(TASK, [], {"message": body, "sns_message_id": envelope["MessageId"]})
    [record] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    return record


def s3_body(key: str) -> bytes:
    return aws_client("s3").get_object(Bucket=settings.MEDIA_BUCKET, Key=key)["Body"].read()


# --- a mail becomes a message in a thread -------------------------------------------------------


def test_a_real_mail_with_an_attachment_becomes_a_thread_message_with_its_file_in_s3(client):
    raw = CPYTHON_SAMPLE.read_bytes()
    body = ses_receiving.receive(raw)
    ses_id = json.loads(body)["mail"]["messageId"]

    deliver(client, body)

    message = recorded(ses_id)
    content = message.content
    assert (message.channel, message.direction, message.status) == ("email", "inbound", "received")
    assert content["from"] == "father.time@xcar.wooster.local" and content["fromName"] == "Father Time"
    assert content["subject"] == "IMAP file test"
    assert content["messageIdHeader"] == "6df65d354b.father.time@rpc.wooster.local"
    assert content["text"].strip() == "Simple email with attachment."
    assert content["verdicts"] == {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}
    [attachment] = content["attachments"]
    assert (attachment["filename"], attachment["contentType"]) == ("clock.bmp", "application/riscos")
    original = message_from_bytes(raw, policy=policy.default)
    [part] = list(original.iter_attachments())
    assert s3_body(attachment["s3Key"]) == part.get_payload(decode=True)
    assert attachment["s3Key"].startswith(settings.EMAIL_ATTACHMENTS_PREFIX)
    media = MediaFile.get(attachment["fileId"])
    assert (media.messageId, media.size, media.s3Key) == (message.messageId, attachment["size"], attachment["s3Key"])
    download = requests.get(email_attachments.link(attachment) or "", timeout=10)  # the page's presigned link
    assert download.content == part.get_payload(decode=True)
    assert download.headers["Content-Disposition"].startswith('attachment; filename="clock.bmp"')

    thread = Thread.get(message.threadId)
    assert (thread.channel, thread.subject, thread.customer) == ("email", "IMAP file test", content["from"])
    assert (thread.unreadCount, thread.messageCount, thread.business) == (1, 1, settings.EMAIL_RECEIVING_ADDRESSES[0])
    assert [m.messageId for m in thread_messages(thread.threadId)] == [message.messageId]


def test_a_new_sender_becomes_a_contact_with_no_opt_in_and_a_known_one_keeps_their_consent(client, operator, new_email):
    stranger, mail = customer_mail(new_email, subject="Hi")
    deliver(client, ses_receiving.receive(mail))
    contact = find_live_by_email(stranger)
    assert contact is not None
    assert not (contact.optInEmail or contact.optInSms or contact.optInWhatsApp)

    known = consent.change(
        contact, "email", True, source="operator", actor=operator, evidence={"note": "asked in the shop"}
    )
    deliver(client, ses_receiving.receive(ses_receiving.mime(sender=stranger, to="one@wecare.digital")))
    again = Contact.get(known.contactId, consistent_read=True)
    assert again.optInEmail is True
    assert [c.contactId for c in Contact.by_email.query(stranger) if not c.is_deleted] == [contact.contactId]


def test_the_same_notification_twice_records_one_message(client, new_email):
    _, mail = customer_mail(new_email, subject="Twice")
    body = ses_receiving.receive(mail)
    ses_id = json.loads(body)["mail"]["messageId"]

    deliver(client, body)
    deliver(client, body)  # SNS delivering again, under the same or another SNS message id

    message = recorded(ses_id)
    assert [m.messageId for m in thread_messages(message.threadId)] == [message.messageId]
    assert Thread.get(message.threadId).unreadCount == 1


def test_an_sns_action_carries_the_mail_in_the_notification(client, new_email):
    sender, mail = customer_mail(new_email, subject="By SNS", text="No S3 here")
    body = ses_receiving.receive(mail, action="SNS")

    deliver(client, body)

    message = recorded(json.loads(body)["mail"]["messageId"])
    assert (message.content["from"], message.content["text"].strip()) == (sender, "No S3 here")


def test_html_is_kept_sanitised(client, new_email):
    html = (
        '<p onclick="steal()">Hello <b>team</b><script>alert(1)</script>'
        '<img src="https://tracker.example/p.gif"><a href="javascript:alert(2)">x</a>'
        '<a href="https://example.com/order">my order</a><form action="/x"><input name="q"></form></p>'
    )
    _, mail = customer_mail(new_email, subject="HTML", html=html)
    body = ses_receiving.receive(mail)

    deliver(client, body)

    stored = recorded(json.loads(body)["mail"]["messageId"]).content["html"]
    for forbidden in ("<script", "alert(1)", "onclick", "<img", "tracker.example", "javascript:", "<form", "<input"):
        assert forbidden not in stored
    assert "<b>team</b>" in stored
    assert '<a href="https://example.com/order" rel="noopener noreferrer nofollow">my order</a>' in stored
    assert email_html.for_display(stored) == stored


def test_awss_own_sns_action_example_is_recorded_once(client):
    # AWS's published notification (fixtures/aws/README.md), the mail in "content", exactly as given.
    body = (FIXTURES / "aws" / "ses_received_sns_action.json").read_text()

    deliver(client, body)
    deliver(client, body)

    message = recorded("d6iitobk75ur44p8kdnnp7g2n800")
    assert (message.content["from"], message.content["subject"]) == ("sender@example.com", "Example subject")
    assert message.content["messageIdHeader"] == "61967230-7A45-4A9D-BEC9-87CBCF2211C9@example.com"
    assert [m.messageId for m in thread_messages(message.threadId)] == [message.messageId]


def test_awss_own_s3_action_example_reads_the_mail_under_the_prefix_it_names(client):
    # AWS's example names only the rule's prefix ("email/") as objectKey: the mail is read from
    # <prefix><messageId>. Its bucket is ours here, and its id new, so it is its own mail.
    body = json.loads((FIXTURES / "aws" / "ses_received_s3_action.json").read_text())
    ses_id = ses_receiving.new_ses_message_id()
    body["mail"]["messageId"] = ses_id
    body["receipt"]["action"]["bucketName"] = settings.MEDIA_BUCKET
    raw = json.loads((FIXTURES / "aws" / "ses_received_sns_action.json").read_text())["content"].encode()
    aws_client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=f"email/{ses_id}", Body=raw)

    deliver(client, json.dumps(body))

    assert recorded(ses_id).content["text"].strip() == "Example content"


# --- threading ------------------------------------------------------------------------------------


def test_our_reply_is_threaded_and_the_customers_answer_joins_the_thread(client, settings, operator, new_email):
    from moto.ses.models import ses_backends  # the moto server runs in this process: what SES "sent"

    settings.SEND_MODE = "LIVE"
    customer, first = customer_mail(new_email, subject="Where is my parcel?", text="Order 42")
    first_body = ses_receiving.receive(first)
    deliver(client, first_body)
    inbound = recorded(json.loads(first_body)["mail"]["messageId"])
    thread_id = inbound.threadId
    contact = consent.change(
        Contact.get(inbound.contactId), "email", True, source="operator", actor=operator, evidence={"note": "asked"}
    )

    # Our reply in the thread (what the conversation page's composer does).
    assert email_threads.thread_reply_subject(thread_id) == "Re: Where is my parcel?"
    reply = records.create_queued(
        contact=contact,
        channel="email",
        sender=settings.SES_SENDER_EMAIL,
        content={
            "subject": email_threads.thread_reply_subject(thread_id),
            "text": "On its way",
            "html": "<p>On its way</p>",
        },
        template_name=None,
        created_by="test",
        dry_run=False,
    )
    reply.update(actions=[Message.threadId.set(thread_id)])
    backend = ses_backends[settings.AWS_ACCOUNT_ID][settings.AWS_REGION]
    before = len(backend.sent_messages)
    assert process(reply.messageId) == "sent"

    [sent] = backend.sent_messages[before:]
    mail = message_from_bytes(sent.raw_data.encode(), policy=policy.default)
    assert mail["Subject"] == "Re: Where is my parcel?"
    assert mail["In-Reply-To"] == f"<{inbound.content['messageIdHeader']}>"
    assert mail["References"] == f"<{inbound.content['messageIdHeader']}>"
    assert mail.get_body(("plain",)).get_content().strip() == "On its way"
    assert "On its way" in mail.get_body(("html",)).get_content()
    assert EmailMessageId.get(f"ses#{sent.id}").threadId == thread_id  # our Message-ID is known

    # The customer answers our reply: their mailer names our Message-ID as SES set it.
    our_id = f"{sent.id}@{settings.SES_MESSAGE_ID_DOMAIN}"
    answer = ses_receiving.mime(
        sender=customer,
        to=settings.EMAIL_RECEIVING_ADDRESSES[0],
        subject="Re: Re: Where is my parcel?",
        text="Thanks!",
        in_reply_to=f"<{our_id}>",
        references=[f"<{inbound.content['messageIdHeader']}>", f"<{our_id}>"],
    )
    answer_body = ses_receiving.receive(answer)
    deliver(client, answer_body)

    joined = recorded(json.loads(answer_body)["mail"]["messageId"])
    assert joined.threadId == thread_id
    thread = Thread.get(thread_id)
    # (The thread's counters for our own message are the send path's: the pages' part.)
    assert (thread.subject, thread.unreadCount) == ("Where is my parcel?", 2)
    # Our next reply answers the latest mail, with the whole chain.
    headers = email_threads.reply_headers(thread_id)
    assert headers["In-Reply-To"] == f"<{joined.content['messageIdHeader']}>"
    assert headers["References"].split() == [
        f"<{inbound.content['messageIdHeader']}>",
        f"<{our_id}>",
        f"<{joined.content['messageIdHeader']}>",
    ]


def test_our_message_id_is_known_whatever_amazonses_domain_the_region_gave_it(client, new_email):
    customer, first = customer_mail(new_email, subject="Domains")
    first_body = ses_receiving.receive(first)
    deliver(client, first_body)
    inbound = recorded(json.loads(first_body)["mail"]["messageId"])
    ses_id = "0100018c2f3a4b5c-6d7e8f90-aaaa-bbbb-cccc-111122223333-000000"
    EmailMessageId(
        key=f"ses#{ses_id}", threadId=inbound.threadId, messageId=inbound.messageId, expiresAt=timedelta(days=1)
    ).save()

    for domain in ("email.amazonses.com", "eu-west-1.amazonses.com"):
        answer = ses_receiving.mime(
            sender=customer, to="one@wecare.digital", subject="Re: Domains", in_reply_to=f"<{ses_id}@{domain}>"
        )
        body = ses_receiving.receive(answer)
        deliver(client, body)
        assert recorded(json.loads(body)["mail"]["messageId"]).threadId == inbound.threadId


def test_a_mail_naming_no_id_we_know_starts_a_thread_of_its_own(client, new_email):
    _, first = customer_mail(new_email, subject="One")
    _, second = customer_mail(new_email, subject="Two", in_reply_to="<never-seen@example.net>")
    bodies = [ses_receiving.receive(first), ses_receiving.receive(second)]
    for body in bodies:
        deliver(client, body)
    threads = {recorded(json.loads(body)["mail"]["messageId"]).threadId for body in bodies}
    assert len(threads) == 2


def test_someone_else_answering_a_customers_mail_starts_their_own_thread(client, new_email):
    _, first = customer_mail(new_email, subject="Private")
    first_body = ses_receiving.receive(first)
    deliver(client, first_body)
    inbound = recorded(json.loads(first_body)["mail"]["messageId"])

    _, other = customer_mail(new_email, subject="Re: Private", in_reply_to=f"<{inbound.content['messageIdHeader']}>")
    body = ses_receiving.receive(other)
    deliver(client, body)

    assert recorded(json.loads(body)["mail"]["messageId"]).threadId != inbound.threadId
    assert Thread.get(inbound.threadId).messageCount == 1


@pytest.mark.parametrize("failed", ["spf", "dmarc"])
def test_a_mail_whose_sender_is_not_proven_never_joins_the_customers_thread(client, new_email, failed):
    sender, first = customer_mail(new_email, subject="Order")
    first_body = ses_receiving.receive(first)
    deliver(client, first_body)
    inbound = recorded(json.loads(first_body)["mail"]["messageId"])

    # Anyone can write the customer's address in From; SES says the domain did not send it.
    forged = ses_receiving.mime(
        sender=sender,
        to=settings.EMAIL_RECEIVING_ADDRESSES[0],
        subject="Re: Order",
        in_reply_to=f"<{inbound.content['messageIdHeader']}>",
    )
    body = ses_receiving.receive(forged, verdicts={failed: "FAIL"})
    deliver(client, body)

    unproven = recorded(json.loads(body)["mail"]["messageId"])
    assert unproven.threadId != inbound.threadId
    assert f"{failed}-fail" in unproven.content["flags"]
    assert Thread.get(inbound.threadId).messageCount == 1


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order 42", "Re: Order 42"),
        ("Re: Order 42", "Re: Order 42"),
        ("RE:  Order 42", "RE: Order 42"),
        ("AW: Bestellung", "AW: Bestellung"),
        ("", "Re:"),
        (None, "Re:"),
    ],
)
def test_a_reply_subject_is_never_doubled(subject, expected):
    assert email_threads.reply_subject(subject) == expected


def test_references_keep_the_root_and_the_latest_ids():
    ids = [f"m{n}@example.com" for n in range(40)]
    kept = email_threads.trimmed(ids)
    assert len(kept) == email_threads.MAX_REFERENCES
    assert kept[0] == "m0@example.com" and kept[-1] == "m39@example.com"


# --- verdicts, bounds and mail we cannot read ---------------------------------------------------------


def test_a_virus_verdict_stores_no_attachment_and_flags_the_message(client, new_email, tmp_path):
    payload = tmp_path / "invoice.pdf"
    payload.write_bytes(b"%PDF-1.4 pretend this is bad")
    _, mail = customer_mail(new_email, subject="Invoice", attachments=[payload])
    body = ses_receiving.receive(mail, verdicts={"virus": "FAIL", "spam": "FAIL"})
    ses_id = json.loads(body)["mail"]["messageId"]

    deliver(client, body)

    message = recorded(ses_id)
    assert set(message.content["flags"]) == {"virus", "spam"}
    assert message.content["verdicts"]["virus"] == "FAIL"
    [listed] = message.content["attachments"]
    assert listed["withheld"] is True and listed["filename"] == "invoice.pdf" and "s3Key" not in listed
    assert email_attachments.link(listed) is None
    s3 = aws_client("s3")
    prefix = f"{settings.EMAIL_ATTACHMENTS_PREFIX}{ses_id}/"
    assert s3.list_objects_v2(Bucket=settings.MEDIA_BUCKET, Prefix=prefix).get("KeyCount") == 0
    assert list(MediaFile.by_message.query(message.messageId)) == []


def test_unreadable_mime_is_recorded_from_what_ses_summarised(client, new_email):
    sender = new_email()
    # A From the parser cannot make an address of, a broken encoded word, a multipart without parts.
    raw = b"From: \xff\xfe<<@>>\r\nSubject: =?utf-8?q?broken\r\nContent-Type: multipart/mixed\r\n\r\n\xff\xfe"
    body = json.loads(ses_receiving.receive(raw))
    body["mail"]["commonHeaders"]["from"] = [sender]
    body = json.dumps(body)

    deliver(client, body)

    message = recorded(json.loads(body)["mail"]["messageId"])
    assert message.content["from"] == sender  # SES's summary names the sender
    assert message.content["problems"]  # what could not be read is named


def test_a_mail_whose_object_is_missing_is_parked_with_the_reason(client):
    body = json.loads(ses_receiving.receive(b"Subject: gone\r\n\r\nbody"))
    body["receipt"]["action"]["objectKey"] = "email-inbound/not-there"
    body = json.dumps(body)

    envelope = deliver(client, body)

    assert "the mail is not in s3://" in parked(body, envelope).payload


def test_a_mail_with_no_sender_at_all_is_parked_with_the_reason(client):
    body = ses_receiving.receive(b"Subject: nobody\r\n\r\nwho wrote this?")

    envelope = deliver(client, body)

    assert "names no sender address" in parked(body, envelope).payload


def test_a_notification_that_is_not_ses_receiving_is_parked(client):
    body = json.dumps({"notificationType": "Received", "receipt": {}, "mail": {"messageId": "../../etc"}})

    envelope = deliver(client, body)

    assert "not an SES message id" in parked(body, envelope).payload


def test_a_mail_is_bounded():
    many = "\n".join(
        f"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f{n}.bin\n\nx"
        for n in range(email_mime.MAX_ATTACHMENTS + 5)
    )
    raw = (
        "From: a@example.com\nSubject: " + "s" * 5000 + "\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\n" + "é" * 200_000 + "\n" + many + "\n--b--\n"
    ).encode()

    mail = email_mime.parse(raw)

    assert len(mail.subject or "") == email_mime.MAX_HEADER_CHARS
    assert len(mail.attachments) == email_mime.MAX_ATTACHMENTS
    assert len(json.dumps(mail.text)) <= email_mime.MAX_TEXT_JSON
    assert any("attachments were kept" in p for p in mail.problems)
    assert any("text cut" in p for p in mail.problems)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ('C:\\Users\\me\\"bad"<name>.pdf', "badname.pdf"),
        ("invoice\x00\r\n.pdf", "invoice.pdf"),
        ("", "attachment-3"),
        (None, "attachment-3"),
        ("...", "attachment-3"),
    ],
)
def test_attachment_names_are_made_safe(given, expected):
    assert email_mime.safe_filename(given, 3) == expected


def test_an_sns_action_in_base64_is_decoded(client, new_email):
    sender, mail = customer_mail(new_email, subject="Encoded", text="नमस्ते, my order?")
    body = json.loads(ses_receiving.receive(mail, action="SNS"))
    body["receipt"]["action"]["encoding"] = "BASE64"
    body["content"] = base64.b64encode(mail).decode()
    body = json.dumps(body)

    deliver(client, body)

    message = recorded(json.loads(body)["mail"]["messageId"])
    assert (message.content["from"], message.content["text"].strip()) == (sender, "नमस्ते, my order?")


def test_html_too_long_to_keep_is_cut_and_still_well_formed():
    paragraph = "<p><b>" + "क" * 1000 + "</b></p>"
    raw = (
        "From: a@example.com\nSubject: long\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + paragraph * 150
    ).encode()

    mail = email_mime.parse(raw)

    assert mail.html is not None and len(json.dumps(mail.html)) <= email_mime.MAX_HTML_JSON + 100
    assert mail.html.endswith("</p>") and mail.html.count("<b>") == mail.html.count("</b>")
    assert any("HTML cut" in problem for problem in mail.problems)


def test_our_mail_with_no_lookup_item_is_found_by_its_provider_id(client, new_email):
    # A bulk email's outcome is written in batches without a ses# item; its Messages item still
    # holds the SES MessageId (providerMessageId-index) and, once it is in a thread, the thread.
    customer, first = customer_mail(new_email, subject="Newsletter reply")
    first_body = ses_receiving.receive(first)
    deliver(client, first_body)
    inbound = recorded(json.loads(first_body)["mail"]["messageId"])
    ses_id = f"0100018c{ses_receiving.new_ses_message_id()}-000000"
    Message(
        messageId=ses_receiving.new_ses_message_id(),
        contactId=inbound.contactId,
        channel="email",
        direction="outbound",
        timestamp=inbound.timestamp,
        status="sent",
        threadId=inbound.threadId,
        providerMessageId=ses_id,
        expiresAt=timedelta(days=1),
    ).save()

    answer = ses_receiving.mime(
        sender=customer, to="one@wecare.digital", subject="Re: News", in_reply_to=f"<{ses_id}@email.amazonses.com>"
    )
    body = ses_receiving.receive(answer)
    deliver(client, body)

    assert recorded(json.loads(body)["mail"]["messageId"]).threadId == inbound.threadId
