"""Reads of leads: a contact's qualification and the Leads list by status, newest change first,
with cursor paging. docs/design/agent.md, "Personas and leads".
"""

from __future__ import annotations

from ai import index_reads
from ai.models import AIInteraction, Lead, LeadStatus
from contacts.models import Contact
from wecare.dynamo import Cursor, Page

MAX_PAGE = 200


def for_contact(contact_id: str | None) -> Lead | None:
    """The contact's lead, if it is one."""
    if not contact_id:
        return None
    try:
        return Lead.get(contact_id, consistent_read=True)
    except Lead.DoesNotExist:
        return None


def by_status(status: LeadStatus | str, *, cursor: str | None = None, limit: int = 50) -> Page[Lead]:
    """One page of the leads with ``status``, the most recently changed first.

    Raises InvalidCursor for a cursor another list issued."""
    status = LeadStatus(status).value
    scope = f"leads:{status}"
    results = Lead.by_status.query(
        status,
        scan_index_forward=False,
        limit=max(1, min(limit, MAX_PAGE)),
        last_evaluated_key=Cursor.decode(cursor, scope),
    )
    items = list(results)
    return Page(items=items, next_cursor=Cursor.encode(results.last_evaluated_key, scope))


def contacts_of(leads: list[Lead]) -> dict[str, Contact]:
    """The contacts of a page of leads, by id, in one batch read (for their names)."""
    ids = [lead.contactId for lead in leads]
    return {c.contactId: c for c in Contact.batch_get(ids)} if ids else {}


def pending_proposal(conversation: str) -> AIInteraction | None:
    """The lead proposal of the conversation's newest suggestion that made one, while nobody has
    decided on it. An older undecided one is not offered: it was worked out from the lead as it
    was then, and the newer message said more."""
    newest = index_reads.query(AIInteraction.by_conversation, conversation, scan_index_forward=False, limit=20)
    proposing = next((i for i in newest if i.leadProposal), None)
    return proposing if proposing is not None and not proposing.leadProposalState else None


def in_conversation(interaction_id: str, conversation: str) -> bool:
    """Whether the suggestion ``interaction_id`` exists and belongs to ``conversation``."""
    try:
        return AIInteraction.get(interaction_id).conversation == conversation
    except AIInteraction.DoesNotExist:
        return False
