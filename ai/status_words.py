"""What an interaction's ``statusReason`` codes (written by the pipeline, ai/pipeline/rules.py and
supersession.py) say to a person, for the inbox panel and the Agent page's log. A reason with no
sentence here (a gate's refusal, a failure's message) is shown as written."""

from __future__ import annotations

REASONS = {
    "newer_message": "the customer wrote again",
    "person_replied": "a person replied first",
    "not_text": "the message had no text",
    "opted_out": "the message was the customer's STOP",
    "consent_withdrawn": "the customer withdrew consent on WhatsApp",
}


# A claimed suggestion whose send failed after its message may have been written
# (ai/suggestions/actions.py): "send_outcome_unknown: <the error>".
OUTCOME_UNKNOWN = "send_outcome_unknown"


def reason_words(code: str | None) -> str:
    if (code or "").startswith(OUTCOME_UNKNOWN):
        error = (code or "")[len(OUTCOME_UNKNOWN) :].lstrip(": ")
        return "the send failed midway and may have reached the customer" + (f" ({error})" if error else "")
    return REASONS.get(code or "", code or "")
