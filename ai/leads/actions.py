"""Changes to leads: qualify a contact (create or update its lead, conditional on the version the
operator saw), add a note, and accept or dismiss the lead change the pipeline proposed with a
suggestion. Each is audited. docs/design/agent.md, "Personas and leads".
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from ai.leads import queries
from ai.models import AIInteraction, Lead, LeadStatus
from contacts.queries import get_contact
from wecare import audit
from wecare.dynamo import now, update_if
from wecare.errors import Conflict, FieldErrors, NotFound

FIELDS = ("status", "score", "interest", "urgency", "source", "campaign")
MAX_TEXT = 100  # source, campaign
MAX_NOTE = 1000
MAX_NOTES = 100  # a lead keeps its newest notes; the audit log keeps every one
WRITE_ATTEMPTS = 3  # a note or an accepted proposal applies to whatever the lead is now
STALE = "this lead changed since the page was shown (now version {v}); reload to see it"
ACCEPTED, DISMISSED = "accepted", "dismissed"


def clean(changes: dict[str, Any]) -> dict[str, Any]:
    """The given qualification fields, checked (absent keys stay absent; empty clears)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in FIELDS:
            continue
        if value is None or value == "":
            if field == "status":
                errors[field] = "required"
            out[field] = None
        elif field == "status":
            # A str check first: a list or a dict is unhashable, and "in set(...)" would raise.
            if not isinstance(value, str) or value not in set(LeadStatus):
                errors[field] = "one of " + ", ".join(LeadStatus)
            out[field] = str(value)
        elif field == "score":
            out[field] = _number(field, value, 0, 100, errors, whole=True)
        elif field in ("interest", "urgency"):
            out[field] = _number(field, value, 0, 1, errors)
        else:
            text = str(value).strip()
            if len(text) > MAX_TEXT:
                errors[field] = f"at most {MAX_TEXT} characters"
            out[field] = text or None
    if errors:
        raise FieldErrors(errors)
    return out


def _number(field: str, value: Any, low: float, high: float, errors: dict[str, str], *, whole: bool = False) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (low <= number <= high) or (whole and number != int(number)):
        errors[field] = f"{'a whole number' if whole else 'a number'} from {low:g} to {high:g}"
        return None
    return int(number) if whole else round(number, 2)


def save(
    contact_id: str, changes: dict[str, Any], *, expected_version: int | None, user: Any, note: str | None = None
) -> Lead:
    """Create or update ``contact_id``'s lead with ``changes``. ``expected_version`` is the version
    the person saw (0: there was no lead); None applies to whatever is stored now."""
    fields = clean(changes)
    text = _note_text(note)
    get_contact(contact_id)  # NotFound for a contact that is not live
    lead = _write(contact_id, fields, text, expected_version, user)
    noted = {"note": text} if text else {}
    audit.record(user, "lead.update", "lead", contact_id, version=lead.version, **fields, **noted)
    return lead


def add_note(contact_id: str, note: str, *, user: Any) -> Lead:
    text = _note_text(note)
    if not text:
        raise FieldErrors({"note": "write the note"})
    get_contact(contact_id)
    lead = _write(contact_id, {}, text, None, user)
    audit.record(user, "lead.note", "lead", contact_id, version=lead.version, note=text)
    return lead


def _note_text(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise FieldErrors({"note": f"at most {MAX_NOTE} characters"})
    return text or None


def _write(contact_id: str, fields: dict[str, Any], note: str | None, expected: int | None, user: Any) -> Lead:
    """One conditional write on the lead's version; without an ``expected`` version, read again
    and retry when someone wrote in between (a note does not depend on what was there)."""
    for _ in range(WRITE_ATTEMPTS):
        lead = queries.for_contact(contact_id)
        seen = lead.version if lead is not None else 0
        if expected is not None and seen != expected:
            raise Conflict(STALE.format(v=seen), field="version")
        at = now().isoformat()
        if lead is None:
            lead = Lead(contactId=contact_id, status=LeadStatus.NEW.value, version=0, createdAt=at)
        for name, value in fields.items():
            setattr(lead, name, value)
        if note:
            lead.notes = [*(lead.notes or []), {"at": at, "by": audit.actor_id(user), "text": note}][-MAX_NOTES:]
        lead.version = seen + 1
        lead.updatedAt = at
        lead.updatedBy = audit.actor_id(user)
        condition = Lead.version == seen if seen else Lead.contactId.does_not_exist()
        try:
            lead.save(condition=condition)
            return lead
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            if expected is not None:
                raise Conflict(STALE.format(v="newer"), field="version") from exc
    raise Conflict("this lead keeps changing; try again")


# The JSON type each proposed value must have. The proposal is stored JSON (the pipeline writes
# it, but nothing in the table enforces its shape): a value of another type is no proposal at all,
# rather than being coerced (float("1e999"), str([...])) into something nobody proposed.
PROPOSAL_TYPES: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "score": (int,),
    "interest": (int, float),
    "urgency": (int, float),
    "source": (str,),
    "campaign": (str,),
    "note": (str,),
}


def proposed_changes(interaction: AIInteraction) -> dict[str, Any]:
    """The qualification fields a suggestion proposes, checked as an operator's would be.

    Raises FieldErrors when a value has the wrong type (status and note text, score a whole
    number, interest and urgency numbers) or is out of range."""
    proposal = interaction.leadProposal
    if not isinstance(proposal, dict):
        raise FieldErrors({"leadProposal": "the proposal is not a set of lead fields"})
    errors = {
        field: f"the proposed {field} is not {'text' if str in types else 'a number'}"
        for field, types in PROPOSAL_TYPES.items()
        if proposal.get(field) is not None
        and (isinstance(proposal[field], bool) or not isinstance(proposal[field], types))
    }
    if errors:
        raise FieldErrors(errors)
    return clean({k: proposal[k] for k in FIELDS if proposal.get(k) not in (None, "")})


def accept_proposal(interaction_id: str, *, user: Any) -> Lead:
    """Apply the suggestion's lead proposal to the contact's lead (creating it), once: the claim
    on ``leadProposalState`` makes a second operator's Accept a Conflict."""
    interaction = _with_proposal(interaction_id)
    if not interaction.contactId:
        raise FieldErrors({"contact": "the conversation has no contact to qualify"})
    changes = proposed_changes(interaction)
    get_contact(interaction.contactId)
    _claim(interaction, ACCEPTED, user)
    note = interaction.leadProposal.get("note")  # text or None: proposed_changes checked it
    if queries.for_contact(interaction.contactId) is None:
        changes.setdefault("source", interaction.channel)
    try:
        lead = _write(interaction.contactId, changes, _note_text(note[:MAX_NOTE] if note else None), None, user)
    except Exception:
        # Not applied: give the proposal back, so an operator can accept it again.
        update_if(interaction, actions=[AIInteraction.leadProposalState.remove()], condition=None)
        raise
    details = {"interaction": interaction_id, "version": lead.version, **changes}
    audit.record(user, "lead.proposal.accept", "lead", lead.contactId, **details)
    return lead


def dismiss_proposal(interaction_id: str, *, user: Any) -> AIInteraction:
    interaction = _with_proposal(interaction_id)
    _claim(interaction, DISMISSED, user)
    audit.record(user, "lead.proposal.dismiss", "lead", interaction.contactId, interaction=interaction_id)
    return interaction


def _with_proposal(interaction_id: str) -> AIInteraction:
    try:
        interaction = AIInteraction.get(interaction_id, consistent_read=True)
    except AIInteraction.DoesNotExist:
        raise NotFound(f"no suggestion {interaction_id}") from None
    if not interaction.leadProposal:
        raise NotFound("this suggestion proposes no lead change")
    if interaction.leadProposalState:
        who = interaction.leadProposalBy or "someone"
        raise Conflict(f"{who} already {interaction.leadProposalState} this proposal")
    return interaction


def _claim(interaction: AIInteraction, state: str, user: Any) -> None:
    claimed = update_if(
        interaction,
        actions=[
            AIInteraction.leadProposalState.set(state),
            AIInteraction.leadProposalBy.set(audit.actor_id(user)),
            AIInteraction.leadProposalAt.set(now().isoformat()),
        ],
        condition=AIInteraction.leadProposalState.does_not_exist(),
    )
    if not claimed:
        raise Conflict("someone else decided on this proposal first; reload to see it")
