"""What messaging tells the apps above it, without knowing them: Django signals an app connects
to in its ``AppConfig.ready()``. The apps depend on messaging, never the other way
(docs/design/README.md), so messaging cannot call them; it announces and they listen.

Both are sent after the write they describe has committed, with ``send_robust``: a listener that
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


def announce(signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` to its listeners; a listener's failure is logged, never raised."""
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("a listener of a messaging signal failed", exc_info=result, extra={"receiver": repr(receiver)})
