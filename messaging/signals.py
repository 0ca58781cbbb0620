"""What messaging tells the apps above it, without knowing them: Django signals an app connects
to in its ``AppConfig.ready()``. The apps depend on messaging, never the other way
(docs/design/README.md), so messaging cannot call them; it announces and they listen.

They are sent (``reply_sending`` excepted: it comes just before the send) after the write they
describe has committed, with ``send_robust``: a listener that
fails is logged and never undoes or fails the recording of a message.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

log = logging.getLogger(__name__)

# A customer's WhatsApp message has been recorded and its follow-ups (window, consent keyword,
# auto-reply hand-off) are done. kwargs: ``event``, the dict messaging.inbound.followups
# .after_inbound_event builds (contactId, customerPhone, phoneNumberId, conversationPk,
# waMessageId, messageType, text, receivedAt, consentSignal when the text was STOP/START...),
# and ``conversation``, the inbox key (``whatsapp~<suffix>~<customer>``).
# A redelivery racing the first delivery can send it twice: listeners must be idempotent.
inbound_recorded = Signal()

# A message on any channel, either direction, has been added to a conversation of the inbox
# (messaging/conversation_index.py). kwargs: ``conversation`` (the inbox key), ``direction``
# ("inbound" | "outbound"), ``by`` (who sent an outbound one: a username, or "system" for the
# platform's own sends; None inbound) and ``at`` (ISO time of the message).
conversation_message = Signal()

# A person's reply from the inbox's composer, in three steps, so an app that put text in the
# composer learns what became of it: ``reply_sending`` once the form is valid and just before the
# send path is asked, ``reply_sent`` once the message is queued (``message_id``), ``reply_refused``
# when the gate or the contact refused it (``reason``, the sentence a person reads, and ``code``,
# the gate's code or ""). kwargs of all three: ``conversation`` (the inbox key), ``origin`` (what
# the composer's hidden ``origin`` field said the text came from: "" when typed, an app's own
# token when it filled the box, such as the AI's "suggestion:<id>"), ``text`` (what was sent; ""
# for a template), ``user`` and ``attempt`` (an id of this one send, the same in all its signals,
# so a listener can tell its own claim from another send's). ``reply_failed`` replaces
# ``reply_sent``/``reply_refused`` when the send raised anything else (``reason``, the error): the
# message may or may not have been written, so a listener must not assume either.
reply_sending = Signal()
reply_sent = Signal()
reply_refused = Signal()
reply_failed = Signal()

# Asked before a composer send (same kwargs as ``reply_sending``, no ``attempt``): a listener may
# answer a sentence warning the person (e.g. the text it put in the box was already sent by a
# colleague). The composer shows every warning as a form error and sends only once the person
# ticks "Send anyway" (``confirm``). Listeners cannot refuse a send; they can only ask first.
reply_check = Signal()


def warnings(signal: Signal, **kwargs: Any) -> list[str]:
    """The sentences ``signal``'s listeners answered (empty ones and failures left out: a failing
    listener is logged and never stops the send)."""
    said: list[str] = []
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("a listener of a messaging signal failed", exc_info=result, extra={"receiver": repr(receiver)})
        elif isinstance(result, str) and result.strip():
            said.append(result.strip())
    return said


def announce(signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` to its listeners; a listener's failure is logged, never raised."""
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("a listener of a messaging signal failed", exc_info=result, extra={"receiver": repr(receiver)})


# Meta made a WhatsApp template unusable for sending (paused, disabled, rejected, deleted…:
# messaging/inbound/template_health.py). kwargs: ``name``, ``language``, ``status`` (Meta's, e.g.
# "PAUSED") and ``reason`` (the sentence a person reads). Bulk pauses its jobs that use it. Sent
# again when the same event is delivered again: listeners must be idempotent.
template_unusable = Signal()
