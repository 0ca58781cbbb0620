"""The WhatsApp single table, ``base-wecare-digital-whatsapp``, in its fixed layout.

One PynamoDB model per item type over one table, told apart by the ``itemType`` discriminator.
Key patterns (``MSG#{waMessageId}``, ``CONV#{phoneArnSuffix}#{customerPhone}``, …), attribute
names, the five GSIs and the TTL attribute ``ttl`` are that layout; do not rename them (attributes
this project added are marked as such). Timestamps are ISO strings (type S), unlike our other tables.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)

from wecare.dynamo import DynamoModel, meta, register, string_index

TABLE = "base-wecare-digital-whatsapp"


InboxIndex = string_index("inboxPk-receivedAt-index", "inboxPk", "receivedAt")
ConversationIndex = string_index("conversationPk-receivedAt-index", "conversationPk", "receivedAt")
ItemTypeIndex = string_index("itemType-receivedAt-index", "itemType", "receivedAt")
TemplateIndex = string_index("wabaId-templateStatus-index", "wabaId", "templateStatus")
DeliveryStatusIndex = string_index("deliveryStatus-receivedAt-index", "deliveryStatus", "receivedAt")


@register
class WhatsAppItem(DynamoModel):
    """Base of every item type. Index key attributes live here so every GSI sees them."""

    Meta = meta(TABLE)
    pk = UnicodeAttribute(hash_key=True)
    itemType = DiscriminatorAttribute()
    receivedAt = UnicodeAttribute(null=True)
    inboxPk = UnicodeAttribute(null=True)
    conversationPk = UnicodeAttribute(null=True)
    wabaId = UnicodeAttribute(null=True)
    templateStatus = UnicodeAttribute(null=True)
    deliveryStatus = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)

    inbox_index = InboxIndex()
    conversation_index = ConversationIndex()
    item_type_index = ItemTypeIndex()
    template_index = TemplateIndex()
    delivery_status_index = DeliveryStatusIndex()


class WaMessage(WhatsAppItem, discriminator="MESSAGE"):
    """``MSG#{waMessageId}``"""

    direction = UnicodeAttribute()  # INBOUND | OUTBOUND
    sentAt = UnicodeAttribute(null=True)
    waTimestamp = UnicodeAttribute(null=True)
    from_ = UnicodeAttribute(attr_name="from", null=True)
    to = UnicodeAttribute(null=True)
    senderName = UnicodeAttribute(null=True)
    originationPhoneNumberId = UnicodeAttribute(null=True)
    wabaMetaId = UnicodeAttribute(null=True)
    businessAccountName = UnicodeAttribute(null=True)
    type = UnicodeAttribute(null=True)
    preview = UnicodeAttribute(null=True)
    textBody = UnicodeAttribute(null=True)
    caption = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    mediaId = UnicodeAttribute(null=True)
    mimeType = UnicodeAttribute(null=True)
    s3Bucket = UnicodeAttribute(null=True)
    s3Key = UnicodeAttribute(null=True)
    s3Uri = UnicodeAttribute(null=True)
    deliveryStatusHistory: ListAttribute[Any] = ListAttribute(null=True)
    markedAsRead = BooleanAttribute(null=True)
    reactedWithEmoji = UnicodeAttribute(null=True)
    # Added to the layout (never renamed): the Messages item this one mirrors, so a
    # status event (which only knows the wamid) finds it with one key read, and its contact.
    messageId = UnicodeAttribute(null=True)
    contactId = UnicodeAttribute(null=True)
    # A failed status: Meta's error, as the inbox shows it.
    errorCode = NumberAttribute(null=True)
    errorTitle = UnicodeAttribute(null=True)
    errorDetails = UnicodeAttribute(null=True)
    # Inbound only: what happens after the message is recorded (media fetch, auto-reply) and
    # whether it was handed on, so a redelivery after a crash finishes it exactly once.
    followUp: MapAttribute[str, Any] = MapAttribute(null=True)
    followUpDispatchedAt = UnicodeAttribute(null=True)
    # Inbound "unsupported" only: Meta's message JSON, which the inbox shows (escaped) so a
    # message we cannot draw is still there to read.
    rawPayload = UnicodeAttribute(null=True)
    # An outbound template: its name (``textBody`` holds its text as the customer read it).
    templateName = UnicodeAttribute(null=True)
    # A file's size in bytes, when known: an upload's, or AWS's answer when it copied an inbound
    # file (Meta's webhook gives none).
    fileSize = NumberAttribute(null=True)

    @staticmethod
    def key(wa_message_id: str) -> str:
        return f"MSG#{wa_message_id}"


class WaConversation(WhatsAppItem, discriminator="CONVERSATION"):
    """``CONV#{phoneArnSuffix}#{customerPhone}``; for a customer WhatsApp named only by a
    business-scoped user id when the conversation began, that id stands where the phone would
    (``CONV#{suffix}#US.1349…``) and stays (messaging.conversations)."""

    from_ = UnicodeAttribute(attr_name="from", null=True)
    originationPhoneNumberId = UnicodeAttribute(null=True)
    businessAccountName = UnicodeAttribute(null=True)
    businessPhone = UnicodeAttribute(null=True)
    lastMessagePk = UnicodeAttribute(null=True)
    lastMessageId = UnicodeAttribute(null=True)
    lastType = UnicodeAttribute(null=True)
    lastPreview = UnicodeAttribute(null=True)
    lastS3Uri = UnicodeAttribute(null=True)
    unreadCount = NumberAttribute(default=0)
    archived = BooleanAttribute(default=False)
    # Added to the layout (never renamed): both WhatsApp identities of the customer, as
    # far as known, whichever one keys the conversation (messaging.conversations), so the inbox
    # finds the contact by the other one too.
    customerPhone = UnicodeAttribute(null=True)
    customerUserId = UnicodeAttribute(null=True)

    @staticmethod
    def key(phone_arn_suffix: str, customer_phone: str) -> str:
        return f"CONV#{phone_arn_suffix}#{customer_phone}"


class WaTemplate(WhatsAppItem, discriminator="TEMPLATE_EUM"):
    """``TEMPLATE_EUM#{wabaId}#{templateName}#{language}``"""

    templateName = UnicodeAttribute()
    metaTemplateId = UnicodeAttribute(null=True)
    templateCategory = UnicodeAttribute(null=True)
    templateLanguage = UnicodeAttribute(null=True)
    qualityScore = UnicodeAttribute(null=True)
    components: ListAttribute[Any] = ListAttribute(null=True)
    cachedAt = UnicodeAttribute(null=True)
    syncedAt = UnicodeAttribute(null=True)
    # Added to the layout (never renamed): what Meta's webhook last said of the template
    # (messaging/inbound/template_health.py). ``statusReason`` is Meta's code (INVALID_FORMAT,
    # NONE for a pause…), ``statusDetail`` its sentence (rejection_info, other_info).
    statusReason = UnicodeAttribute(null=True)
    statusDetail = UnicodeAttribute(null=True)
    statusChangedAt = UnicodeAttribute(null=True)  # when Meta reported the status (ISO)
    previousQualityScore = UnicodeAttribute(null=True)
    qualityChangedAt = UnicodeAttribute(null=True)
    # Every status and quality event, oldest first and bounded, each with the key that makes a
    # second delivery of the same event a no-op; ``healthVersion`` guards concurrent writers.
    healthHistory: ListAttribute[Any] = ListAttribute(null=True)
    healthVersion = NumberAttribute(null=True)

    @staticmethod
    def key(waba_id: str, name: str, language: str) -> str:
        return f"TEMPLATE_EUM#{waba_id}#{name}#{language}"

    @property
    def usable(self) -> bool:
        return self.templateStatus == "APPROVED"


class WaBusinessProfile(WhatsAppItem, discriminator="BUSINESS_PROFILE"):
    """``TENANT#{tenantId}#BIZPROFILE#{phoneNumberId}``"""

    tenantId = UnicodeAttribute()
    phoneNumberId = UnicodeAttribute()
    about = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    websites: ListAttribute[str] = ListAttribute(null=True)
    vertical = UnicodeAttribute(null=True)
    profilePictureS3Key = UnicodeAttribute(null=True)
    appliedState = UnicodeAttribute(null=True)
    appliedAt = UnicodeAttribute(null=True)
    appliedBy = UnicodeAttribute(null=True)
    versionHistory: ListAttribute[Any] = ListAttribute(null=True)
    # Added to the layout (nothing renamed): the version each save and applied mark moves on, so
    # two admins editing at once cannot overwrite each other (messaging/business_profile.py), and
    # who saved last.
    profileVersion = NumberAttribute(null=True)
    updatedAt = UnicodeAttribute(null=True)
    updatedBy = UnicodeAttribute(null=True)


class WaWelcomeConfig(WhatsAppItem, discriminator="WELCOME_CONFIG"):
    """``TENANT#{tenantId}#WELCOME#default``"""

    tenantId = UnicodeAttribute()
    welcomeText = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=False)
    onlyOnFirstContact = BooleanAttribute(default=True)
    cooldownHours = NumberAttribute(default=24)
    outsideWindowTemplateName = UnicodeAttribute(null=True)


class WaMenuConfig(WhatsAppItem, discriminator="MENU_CONFIG"):
    """``TENANT#{tenantId}#MENU#main``"""

    tenantId = UnicodeAttribute()
    buttonText = UnicodeAttribute(null=True)
    bodyText = UnicodeAttribute(null=True)
    sections: ListAttribute[Any] = ListAttribute(null=True)
    # Added to the layout (nothing renamed): the welcome item has its own switch and cooldown;
    # the menu needs the same, plus the words that ask for it.
    enabled = BooleanAttribute(default=False)
    triggerKeywords: ListAttribute[str] = ListAttribute(null=True)
    cooldownHours = NumberAttribute(default=0)


class WaConsentKeywords(WhatsAppItem, discriminator="CONSENT_KEYWORDS"):
    """``CONSENT_KEYWORDS#{channel}`` (whatsapp | sms). Added to the layout: the words and template
    buttons with which a customer withdraws or gives consent on a channel, and the confirmations
    (messaging/autoreply/keyword_rules.py)."""

    channel = UnicodeAttribute()
    optOutWords: ListAttribute[str] = ListAttribute()
    optInWords: ListAttribute[str] = ListAttribute()
    optOutButtons: ListAttribute[str] = ListAttribute(null=True)  # template quick-reply labels/payloads
    optOutConfirmation = UnicodeAttribute(null=True)
    optInConfirmation = UnicodeAttribute(null=True)
    updatedBy = UnicodeAttribute(null=True)


class WaBusinessNumber(WhatsAppItem, discriminator="BUSINESS_NUMBER"):
    """``BUSINESS_NUMBER#{sender}``. Added to the layout: the name and phone number an admin gives
    an allowlisted sender (a WhatsApp phone-number id, the SMS pool or a number, the SES address),
    so pages say "Sales · +91 98765 00001" instead of an id (messaging/business_numbers.py)."""

    sender = UnicodeAttribute()
    channel = UnicodeAttribute()
    displayName = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164
    updatedBy = UnicodeAttribute(null=True)
    # A WhatsApp number as AWS describes it (GetLinkedWhatsAppBusinessAccountPhoneNumber), copied
    # by each refresh; these win over the admin's name above (docs/design/business-numbers.md).
    awsDisplayName = UnicodeAttribute(null=True)
    awsPhone = UnicodeAttribute(null=True)  # E.164 when it reads as one, else as AWS wrote it
    awsQualityRating = UnicodeAttribute(null=True)
    awsRefreshedAt = UnicodeAttribute(null=True)


class WaPaymentConfig(WhatsAppItem, discriminator="PAYMENT_CONFIG"):
    """``TENANT#{tenantId}#PAYCFG#{wabaId}#{configName}``"""

    tenantId = UnicodeAttribute()
    configName = UnicodeAttribute()
    gatewayMid = UnicodeAttribute(null=True)
    upiId = UnicodeAttribute(null=True)
    mcc = UnicodeAttribute(null=True)
    purposeCode = UnicodeAttribute(null=True)
    isDefault = BooleanAttribute(default=False)


class WaIdempotency(WhatsAppItem, discriminator="IDEMPOTENCY"):
    """``EVENT#{idempotencyKey}``: written with attribute_not_exists so a duplicate changes nothing."""

    eventType = UnicodeAttribute(null=True)
    processedAt = UnicodeAttribute(null=True)

    @staticmethod
    def key(idempotency_key: str) -> str:
        return f"EVENT#{idempotency_key}"


class WaNotificationSent(WhatsAppItem, discriminator="NOTIFICATION_SENT"):
    """``NOTIFICATION#{notificationId}``"""

    notificationType = UnicodeAttribute(null=True)
    recipient = UnicodeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)
    sentAt = UnicodeAttribute(null=True)
    # Added to the layout: what became of it (messaging/autoreply/replies.py, cooldown.py).
    outcome = UnicodeAttribute(null=True)  # claimed | queued | sent | dry_run | refused | invalid | failed
    detail = UnicodeAttribute(null=True)  # the refusal reason, the outbound message id, or the error


class WaBedrockResult(WhatsAppItem, discriminator="BEDROCK_RESULT"):
    """``BEDROCK#{conversationId}#{messageId}``"""

    messageId = UnicodeAttribute(null=True)
    tenantId = UnicodeAttribute(null=True)
    conversationId = UnicodeAttribute(null=True)
    contentType = UnicodeAttribute(null=True)
    summary = UnicodeAttribute(null=True)
    extractedText = UnicodeAttribute(null=True)
    entities: MapAttribute[str, Any] = MapAttribute(null=True)
    intent = UnicodeAttribute(null=True)
    replyDraft = UnicodeAttribute(null=True)
    processedAt = UnicodeAttribute(null=True)


class WaPhoneQuality(WhatsAppItem, discriminator="PHONE_QUALITY"):
    """``QUALITY#{phoneNumberId}``"""

    phoneNumberId = UnicodeAttribute(null=True)
    qualityRating = UnicodeAttribute(null=True)
    throughputStatus = UnicodeAttribute(null=True)
    qualityHistory: ListAttribute[Any] = ListAttribute(null=True)
    # Added to the layout (never renamed): the last phone_number_quality_update
    # (messaging/inbound/number_health.py). ``messagingLimit`` is Meta's word for the portfolio's
    # limit (TIER_2K, 2000, TIER_UNLIMITED…), ``lastEvent`` its event (FLAGGED, DOWNGRADE…);
    # ``qualityHistory`` holds every event, oldest first and bounded, each with its key.
    displayPhoneNumber = UnicodeAttribute(null=True)
    messagingLimit = UnicodeAttribute(null=True)
    previousMessagingLimit = UnicodeAttribute(null=True)
    lastEvent = UnicodeAttribute(null=True)
    reportedAt = UnicodeAttribute(null=True)  # when Meta reported the last event (ISO)
    healthVersion = NumberAttribute(null=True)

    @staticmethod
    def key(phone_number_id: str) -> str:
        return f"QUALITY#{phone_number_id}"


class WaAccountEvent(WhatsAppItem, discriminator="ACCOUNT_EVENT"):
    """``ACCOUNT_EVENT#{eventKey}``. Added to the layout: one item per ``account_update`` or
    ``phone_number_name_update`` Meta sent (messaging/inbound/account_events.py), written once,
    listed newest first through the item-type index (``receivedAt`` is when Meta sent it)."""

    changeField = UnicodeAttribute()  # account_update | phone_number_name_update
    event = UnicodeAttribute(null=True)  # ACCOUNT_RESTRICTION…, or the name decision (APPROVED, REJECTED…)
    wabaMetaId = UnicodeAttribute(null=True)
    phoneNumberId = UnicodeAttribute(null=True)
    summary = UnicodeAttribute(null=True)  # one sentence a person reads
    payload = UnicodeAttribute(null=True)  # Meta's value, as JSON

    @staticmethod
    def key(event_key: str) -> str:
        return f"ACCOUNT_EVENT#{event_key}"
