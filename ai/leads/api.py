"""/api/ai/leads: the Leads list by status with cursor paging and a contact's lead (viewers);
qualify a contact on the version you saw, add a note, and accept or dismiss a suggestion's lead
proposal (operators). Mounted by ai/api.py. docs/design/agent.md, "Personas and leads"."""

from __future__ import annotations

from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from ai.leads import actions, queries
from ai.models import Lead, LeadStatus
from wecare.api_auth import OPERATOR, VIEWER
from wecare.errors import NotFound
from wecare.http import AuthedRequest

router = Router(tags=["agent"])

ERRORS = {401: dict, 403: dict, 404: dict, 409: dict, 422: dict}


class NoteOut(Schema):
    at: str
    by: str
    text: str


class LeadOut(Schema):
    contactId: str
    status: str
    score: int | None
    interest: float | None
    urgency: float | None
    source: str | None
    campaign: str | None
    notes: list[NoteOut]
    version: int
    createdAt: str
    updatedAt: str
    updatedBy: str

    @staticmethod
    def of(lead: Lead) -> LeadOut:
        return LeadOut(
            contactId=lead.contactId,
            status=lead.status,
            score=int(lead.score) if lead.score is not None else None,
            interest=lead.interest,
            urgency=lead.urgency,
            source=lead.source,
            campaign=lead.campaign,
            notes=[NoteOut(**n) for n in lead.notes or []],
            version=int(lead.version),
            createdAt=lead.createdAt,
            updatedAt=lead.updatedAt,
            updatedBy=lead.updatedBy,
        )


class LeadPage(Schema):
    items: list[LeadOut]
    nextCursor: str | None


class LeadIn(Schema):
    """Only the fields sent change; null clears one (not status)."""

    model_config = ConfigDict(extra="forbid")
    status: LeadStatus | None = None
    score: int | None = Field(None, ge=0, le=100)
    interest: float | None = Field(None, ge=0, le=1)
    urgency: float | None = Field(None, ge=0, le=1)
    source: str | None = Field(None, max_length=actions.MAX_TEXT)
    campaign: str | None = Field(None, max_length=actions.MAX_TEXT)
    note: str | None = Field(None, max_length=actions.MAX_NOTE)
    expectedVersion: int = Field(ge=0, description="The version you saw (0: no lead yet); 409 if it changed since")


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=actions.MAX_NOTE)


@router.get("", response={200: LeadPage, **ERRORS}, auth=VIEWER, summary="Leads with a status, newest change first")
def list_leads(
    request: AuthedRequest,
    status: LeadStatus = LeadStatus.NEW,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=queries.MAX_PAGE),
):
    page = queries.by_status(status, cursor=cursor, limit=limit)
    return LeadPage(items=[LeadOut.of(lead) for lead in page.items], nextCursor=page.next_cursor)


@router.get("/{contact_id}", response={200: LeadOut, **ERRORS}, auth=VIEWER, summary="A contact's lead")
def get_lead(request: AuthedRequest, contact_id: str):
    lead = queries.for_contact(contact_id)
    if lead is None:
        raise NotFound(f"contact {contact_id} is not a lead")
    return LeadOut.of(lead)


@router.put(
    "/{contact_id}", response={200: LeadOut, **ERRORS}, auth=OPERATOR, summary="Qualify a contact (create or change)"
)
def save_lead(request: AuthedRequest, contact_id: str, payload: LeadIn):
    sent = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in sent.items() if k in actions.FIELDS}
    lead = actions.save(
        contact_id, changes, expected_version=payload.expectedVersion, user=request.auth, note=payload.note
    )
    return LeadOut.of(lead)


@router.post("/{contact_id}/notes", response={200: LeadOut, **ERRORS}, auth=OPERATOR, summary="Add a note")
def add_note(request: AuthedRequest, contact_id: str, payload: NoteIn):
    return LeadOut.of(actions.add_note(contact_id, payload.text, user=request.auth))


@router.post(
    "/proposals/{interaction_id}/accept",
    response={200: LeadOut, **ERRORS},
    auth=OPERATOR,
    summary="Apply a suggestion's lead proposal",
)
def accept_proposal(request: AuthedRequest, interaction_id: str):
    return LeadOut.of(actions.accept_proposal(interaction_id, user=request.auth))


class DismissedOut(Schema):
    interactionId: str
    leadProposalState: str


@router.post(
    "/proposals/{interaction_id}/dismiss",
    response={200: DismissedOut, **ERRORS},
    auth=OPERATOR,
    summary="Dismiss a suggestion's lead proposal",
)
def dismiss_proposal(request: AuthedRequest, interaction_id: str):
    interaction = actions.dismiss_proposal(interaction_id, user=request.auth)
    return DismissedOut(interactionId=interaction.interactionId, leadProposalState=actions.DISMISSED)
