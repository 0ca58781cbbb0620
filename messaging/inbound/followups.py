"""What follows a recorded inbound message: the contact's window, the media task, the reaction
mark, the customer's consent keyword or button (messaging/inbound/consent_signals.py), the
hand-off to the automatic replies. Each step is safe to repeat and
``followUpDispatchedAt`` is written last, so a redelivery completes what a crash left undone
(docs/design/inbound.md, "What follows a message").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from messaging import conversation_index, signals
from messaging.autoreply.replies import after_inbound
from messaging.inbound import consent_signals
from messaging.inbound.contacts import open_window
from messaging.inbound.media import fetch_inbound_media
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now, update_if

log = logging.getLogger(__name__)


def finish(item: WaMessage) -> bool:
    """Complete the follow-ups of an inbound ``MSG#`` item. True if this call handed them on
    (two deliveries racing may both do so; docs/design/inbound.md says why that is safe)."""
    if item.direction != "INBOUND" or item.followUp is None or item.followUpDispatchedAt:
        return False
    if item.contactId and item.waTimestamp:
        open_window(item.contactId, datetime.fromtimestamp(int(item.waTimestamp), tz=UTC))
    if item.mediaId and not item.s3Key:
        fetch_inbound_media.delay(item.pk.removeprefix("MSG#"))
    follow_up = item.followUp.as_dict()
    if item.type == "reaction" and follow_up.get("reactionTo"):
        _mark_reacted(follow_up["reactionTo"], item.reactedWithEmoji or "")
    signal = consent_signals.apply(item, follow_up)
    consent_signal = signal.intent.value if signal else None
    _tell_autoreply(item, follow_up, consent_signal=consent_signal)
    _tell_listeners(item, follow_up, consent_signal=consent_signal)
    _mark_dispatched(item)
    return True


def _mark_dispatched(item: WaMessage) -> None:
    """Only after the hand-off: from here on a redelivery of this message has nothing to do.
    The condition keeps the first time when two deliveries race to the same point."""
    update_if(
        item,
        actions=[WaMessage.followUpDispatchedAt.set(now().isoformat())],
        condition=WaMessage.followUpDispatchedAt.does_not_exist(),
    )


def _mark_reacted(target_wa_message_id: str, emoji: str) -> None:
    """Show the customer's reaction on the message it is about (an empty emoji removes it)."""
    attribute = WaMessage.reactedWithEmoji
    target = WaMessage(pk=WaMessage.key(target_wa_message_id))
    if not update_if(
        target, actions=[attribute.set(emoji) if emoji else attribute.remove()], condition=WaMessage.pk.exists()
    ):
        log.info("reaction to a message we have no record of", extra={"wa_message_id": target_wa_message_id})


def after_inbound_event(
    item: WaMessage, follow_up: dict[str, Any], *, consent_signal: str | None = None
) -> dict[str, Any]:
    """The task argument of ``messaging.after_inbound``, as ``messaging.autoreply.trigger.InboundEvent`` reads it.
    ``consent_signal``: "opt_out" / "opt_in" when the message was a consent keyword or button, which
    its own confirmation answers (the welcome and the menu stay silent)."""
    event: dict[str, Any] = {
        "contactId": item.contactId,
        "customerPhone": item.from_,
        "phoneNumberId": item.originationPhoneNumberId,
        "conversationPk": item.conversationPk,
        "waMessageId": item.pk.removeprefix("MSG#"),
        "messageType": item.type,
        "text": item.textBody,
        "isNewContact": bool(follow_up.get("contactCreated")),
        "isFirstMessage": bool(follow_up.get("startsConversation")),
        "receivedAt": item.receivedAt,
    }
    if consent_signal:
        event["consentSignal"] = consent_signal
    return event


def _tell_listeners(item: WaMessage, follow_up: dict[str, Any], *, consent_signal: str | None) -> None:
    """The apps above messaging (the AI's suggested replies) hear of the message here, once its
    consent keyword has been applied, so a listener reads the contact's consent as it now is."""
    event = after_inbound_event(item, follow_up, consent_signal=consent_signal)
    conversation = conversation_index.key_for_whatsapp(item.conversationPk) if item.conversationPk else None
    signals.announce(signals.inbound_recorded, event=event, conversation=conversation)


def _tell_autoreply(item: WaMessage, follow_up: dict[str, Any], *, consent_signal: str | None) -> None:
    after_inbound.delay(after_inbound_event(item, follow_up, consent_signal=consent_signal))
