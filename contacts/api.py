"""/api/contacts: create, read, update, soft delete, restore and search contacts."""

from __future__ import annotations

from ninja import Query, Router, Status

from contacts import actions, queries
from contacts.schemas import ConflictOut, ConsentEventOut, ContactIn, ContactOut, ContactPage, ContactPatch, ErrorOut
from wecare.api_auth import ADMIN, OPERATOR, VIEWER
from wecare.dynamo import Page
from wecare.http import AuthedRequest

router = Router(tags=["contacts"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def _page(page: Page) -> ContactPage:
    return ContactPage(items=[ContactOut.of(c) for c in page.items], nextCursor=page.next_cursor)


@router.get("", response={200: ContactPage, **ERRORS}, auth=VIEWER, summary="List live contacts, newest first")
def list_contacts(request: AuthedRequest, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    return _page(queries.list_contacts(cursor=cursor, limit=limit))


@router.get("/search", response={200: ContactPage, **ERRORS}, auth=VIEWER, summary="Search by name, phone or email")
def search_contacts(
    request: AuthedRequest,
    q: str = Query(..., max_length=queries.MAX_QUERY),
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    return _page(queries.search_contacts(q, cursor=cursor, limit=limit))


@router.post("", response={201: ContactOut, 409: ConflictOut, **ERRORS}, auth=OPERATOR, summary="Create a contact")
def create_contact(request: AuthedRequest, payload: ContactIn):
    contact = actions.create_contact(payload.model_dump(exclude_unset=True), user=request.auth, source="api")
    return Status(201, ContactOut.of(contact))


@router.get("/{contact_id}", response={200: ContactOut, 404: ErrorOut, **ERRORS}, auth=VIEWER, summary="Get a contact")
def get_contact(request: AuthedRequest, contact_id: str):
    return ContactOut.of(queries.get_contact(contact_id))


@router.get(
    "/{contact_id}/consent-history",
    response={200: list[ConsentEventOut], 404: ErrorOut, **ERRORS},
    auth=VIEWER,
    summary="A contact's consent history, every channel, newest first",
)
def consent_history(request: AuthedRequest, contact_id: str):
    queries.get_contact(contact_id)  # 404 for a contact that is not live, as the contact itself
    return [ConsentEventOut.of(event) for event in queries.consent_history(contact_id)]


@router.patch(
    "/{contact_id}",
    response={200: ContactOut, 404: ErrorOut, 409: ConflictOut, **ERRORS},
    auth=OPERATOR,
    summary="Change a contact",
)
def update_contact(request: AuthedRequest, contact_id: str, payload: ContactPatch):
    changes = payload.model_dump(exclude_unset=True)
    note = changes.pop("consentEvidence", None)
    for field in ("optInWhatsApp", "optInSms", "optInEmail"):
        if field in changes and changes[field] is None:
            del changes[field]  # null is "no change", never "opt out"
    evidence = {"note": note} if note else None
    return ContactOut.of(
        actions.update_contact(contact_id, changes, user=request.auth, source="api", evidence=evidence)
    )


@router.delete(
    "/{contact_id}", response={200: ContactOut, 404: ErrorOut, **ERRORS}, auth=OPERATOR, summary="Soft-delete a contact"
)
def delete_contact(request: AuthedRequest, contact_id: str):
    return ContactOut.of(actions.delete_contact(contact_id, user=request.auth))


@router.post(
    "/{contact_id}/restore",
    response={200: ContactOut, 404: ErrorOut, 409: ConflictOut, **ERRORS},
    auth=ADMIN,
    summary="Restore a deleted contact (admin)",
)
def restore_contact(request: AuthedRequest, contact_id: str):
    return ContactOut.of(actions.restore_contact(contact_id, user=request.auth))
