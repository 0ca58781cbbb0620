"""Reading one received mail (raw MIME) with the standard library, within bounds: who wrote, to
whom, the subject and threading ids, the text and HTML parts and the attachments. Nothing here
raises on a malformed mail: what cannot be read is left out and named in ``problems``, so the
mail is still recorded (docs/design/email.md, "Inbound email").
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.errors import MessageError
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from messaging import email_html
from messaging.email_threads import parse_ids

# Each bound says what a mail may bring before the rest is cut (and the cut named).
MAX_HEADER_CHARS = 998  # RFC 5322's line limit: a subject or name longer than that is not a mail's
MAX_ADDRESSES = 50  # To and Cc, each
MAX_IDS = 50  # References read (the nearest are kept)
MAX_PARTS = 200  # MIME parts walked: a mail of thousands of empty parts is an attack, not a letter
MAX_ATTACHMENTS = 20
# The text part and the sanitised HTML as stored on the message, measured as JSON (how the content
# is stored, where a non-ASCII character takes up to 12 bytes): together far below DynamoDB's
# 400 KB item.
MAX_TEXT_JSON = 80_000
MAX_HTML_JSON = 200_000
MAX_HTML_INPUT_BYTES = 1_000_000  # HTML read before sanitising
MAX_FILENAME_CHARS = 150
# What the standard library's parser and header classes raise on mail they cannot read (bad
# encoded words, address syntax, charsets, transfer encodings): caught per header or part, so one
# bad field costs only itself.
READ_ERRORS = (MessageError, ValueError, TypeError, LookupError, AttributeError, IndexError)
CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool  # shown in the body by the sender's mailer (an inline image): listed all the same


@dataclass
class ParsedMail:
    from_address: str | None = None
    from_name: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: str | None = None  # ISO 8601, as the sender's mailer wrote it
    text: str | None = None
    html: str | None = None  # sanitised (messaging.email_html)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def thread_ids(self) -> list[str]:
        """The ids that name the thread, nearest first: In-Reply-To, then References latest first."""
        return [*self.in_reply_to, *reversed(self.references)]


def parse(raw: bytes) -> ParsedMail:
    mail = ParsedMail()
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except READ_ERRORS as exc:  # the parser is lenient; what it still raises is a mail we cannot read
        mail.problems.append(f"not a MIME message: {type(exc).__name__}")
        return mail
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
    _read_headers(message, mail)
    _read_body(message, mail)
    if message.defects:
        mail.problems.append("MIME defects: " + ", ".join(sorted({type(d).__name__ for d in message.defects}))[:300])
    return mail


def _header(message: EmailMessage, name: str, mail: ParsedMail) -> str | None:
    """A header's decoded value, bounded; None when absent or unreadable (named in problems)."""
    try:
        value = message.get(name)
    except READ_ERRORS as exc:
        mail.problems.append(f"{name} unreadable: {type(exc).__name__}")
        return None
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > MAX_HEADER_CHARS:
        mail.problems.append(f"{name} cut to {MAX_HEADER_CHARS} characters")
        text = text[:MAX_HEADER_CHARS]
    return text


def _addresses(message: EmailMessage, name: str, mail: ParsedMail) -> list[tuple[str, str]]:
    try:
        raw_values = message.get_all(name) or []
        pairs = getaddresses([str(value) for value in raw_values])
    except READ_ERRORS as exc:
        mail.problems.append(f"{name} unreadable: {type(exc).__name__}")
        return []
    pairs = [(display[:MAX_HEADER_CHARS], address.strip().lower()) for display, address in pairs if "@" in address]
    if len(pairs) > MAX_ADDRESSES:
        mail.problems.append(f"{name} cut to {MAX_ADDRESSES} addresses")
    return pairs[:MAX_ADDRESSES]


def _read_headers(message: EmailMessage, mail: ParsedMail) -> None:
    senders = _addresses(message, "From", mail)
    if senders:
        mail.from_name, mail.from_address = (senders[0][0] or None), senders[0][1]
    mail.to = [address for _, address in _addresses(message, "To", mail)]
    mail.cc = [address for _, address in _addresses(message, "Cc", mail)]
    mail.subject = _header(message, "Subject", mail)
    ids = parse_ids(_header(message, "Message-ID", mail))
    mail.message_id = ids[0] if ids else None
    mail.in_reply_to = parse_ids(_header(message, "In-Reply-To", mail))[:1]
    references = parse_ids(_raw_header(message, "References", mail))
    if len(references) > MAX_IDS:
        mail.problems.append(f"References cut to the latest {MAX_IDS} ids")
    mail.references = references[-MAX_IDS:]
    date = _header(message, "Date", mail)
    if date:
        try:
            mail.date = parsedate_to_datetime(date).isoformat()
        except (TypeError, ValueError, IndexError):
            mail.problems.append("Date unreadable")


def _raw_header(message: EmailMessage, name: str, mail: ParsedMail) -> str | None:
    """References may be long (a whole thread's ids): bounded by ids, not characters."""
    try:
        value = message.get(name)
    except READ_ERRORS as exc:
        mail.problems.append(f"{name} unreadable: {type(exc).__name__}")
        return None
    return None if value is None else str(value)[:64_000]


def _read_body(message: EmailMessage, mail: ParsedMail) -> None:
    parts = 0
    text_part = _body_part(message, "plain")
    html_part = _body_part(message, "html")
    if text_part is not None:
        mail.text = _bounded(_decoded_text(text_part, mail), MAX_TEXT_JSON, "text", mail)
    if html_part is not None:
        html = _decoded_text(html_part, mail)
        if len(html.encode()) > MAX_HTML_INPUT_BYTES:
            mail.problems.append("HTML too large to show: the text part is kept")
        else:
            # Sanitised, cut to size, and sanitised again so a cut leaves no tag open.
            mail.html = email_html.sanitise(_bounded(email_html.sanitise(html), MAX_HTML_JSON, "HTML", mail)) or None
    for part in message.walk():
        parts += 1
        if parts > MAX_PARTS:
            mail.problems.append(f"only the first {MAX_PARTS} MIME parts were read")
            break
        if part.is_multipart() or part is text_part or part is html_part:
            continue
        if not _is_attachment(part):
            continue
        if len(mail.attachments) >= MAX_ATTACHMENTS:
            mail.problems.append(f"only the first {MAX_ATTACHMENTS} attachments were kept")
            break
        mail.attachments.append(_attachment(part, len(mail.attachments) + 1, mail))


def _body_part(message: EmailMessage, subtype: str) -> Message | None:
    try:
        return message.get_body(preferencelist=(subtype,))
    except READ_ERRORS:  # a structure get_body cannot walk: no body of that kind
        return None


def _is_attachment(part: Message) -> bool:
    """Any leaf that is not the body text: a declared attachment, an inline image, a file."""
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    return part.get_content_type() not in ("text/plain", "text/html")


def _decoded_text(part: Message, mail: ParsedMail) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]  # EmailMessage parts under policy.default
        if isinstance(content, str):
            return content
    except READ_ERRORS as exc:  # an unknown charset or a broken transfer encoding
        mail.problems.append(f"a text part was decoded leniently: {type(exc).__name__}")
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _bounded(text: str, limit: int, what: str, mail: ParsedMail) -> str:
    """The text cut until its JSON form fits ``limit`` characters."""
    size = len(json.dumps(text))
    if size <= limit:
        return text
    mail.problems.append(f"{what} cut to fit {limit} characters")
    while size > limit:
        text = text[: int(len(text) * limit / size * 0.95)]
        size = len(json.dumps(text))
    return text


def _attachment(part: Message, number: int, mail: ParsedMail) -> Attachment:
    content_type = part.get_content_type().lower()
    if not CONTENT_TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"
    try:
        payload = part.get_payload(decode=True)
    except READ_ERRORS as exc:
        mail.problems.append(f"attachment {number} unreadable: {type(exc).__name__}")
        payload = b""
    data = payload if isinstance(payload, bytes) else b""
    return Attachment(
        filename=safe_filename(part.get_filename(), number),
        content_type=content_type,
        data=data,
        inline=part.get_content_disposition() != "attachment",
    )


def safe_filename(name: str | None, number: int) -> str:
    """A name fit to show and to offer as a download: the last path segment, no control or
    separator characters, bounded; ``attachment-<n>`` when nothing is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*')
    text = text.strip(" .")[:MAX_FILENAME_CHARS]
    return text or f"attachment-{number}"
