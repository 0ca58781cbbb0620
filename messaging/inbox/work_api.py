"""/api/work: what staff do with a conversation on any channel (assign, status, undo, labels,
private notes) and the search. Viewers read; operators act. A conversation is
named by its inbox key (``whatsapp~…``, ``sms~…``, ``email~…``). A change made by someone else
since the value you send as ``expected`` is a 409 whose detail says who did what."""

from __future__ import annotations

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from messaging.conversation_index import InboxConversation
from messaging.inbox import labels, notes, ownership, search
from wecare.api_auth import OPERATOR, VIEWER
from wecare.http import AuthedRequest

router = Router(tags=["conversation work"])

ERRORS = {401: dict, 403: dict}


class WorkOut(Schema):
    conversation: str
    channel: str
    status: str
    statusBy: str | None
    assignee: str | None = Field(description="A username; null when unassigned")
    assignedBy: str | None
    labels: list[str]
    contactName: str | None
    customer: str
    lastAt: str
    lastPreview: str | None

    @staticmethod
    def of(c: InboxConversation) -> WorkOut:
        return WorkOut(
            conversation=c.key,
            channel=c.channel,
            status=c.status,
            statusBy=c.statusBy,
            assignee=c.assignee,
            assignedBy=c.assignedBy,
            labels=sorted(c.labels or ()),
            contactName=c.contactName,
            customer=c.customer,
            lastAt=c.lastAt,
            lastPreview=c.lastPreview,
        )


class ChangeOut(Schema):
    conversation: WorkOut
    sentence: str
    undoToken: str | None = Field(description="POST it to /undo within a minute to put the value before back")


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")
    assignee: str | None = Field(description="An operator's or admin's username; null unassigns", max_length=150)
    expected: str | None = Field(description="The assignee you saw (null: unassigned)", max_length=150)


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="open, pending or resolved", max_length=20)
    expected: str = Field(description="The status you saw", max_length=20)


class UndoIn(Schema):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=2000)


class LabelsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    add: list[str] = Field(default_factory=list, max_length=labels.MAX_LABELS)
    remove: list[str] = Field(default_factory=list, max_length=labels.MAX_LABELS)


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=notes.MAX_NOTE)


class NoteOut(Schema):
    noteId: str
    at: str
    author: str
    text: str

    @staticmethod
    def of(n: notes.Note) -> NoteOut:
        return NoteOut(noteId=n.note_id, at=n.at, author=n.author, text=n.text)


class HitOut(Schema):
    conversation: WorkOut
    snippet: str | None = Field(description="The matching message around the word; null when the contact matched")
    at: str


def _change(done: ownership.Change) -> ChangeOut:
    return ChangeOut(conversation=WorkOut.of(done.conversation), sentence=done.sentence, undoToken=done.undo_token)


@router.get("/search", response={200: list[HitOut], **ERRORS}, auth=VIEWER, summary="Search conversations and messages")
def search_conversations(request: AuthedRequest, q: str = Query(..., min_length=1, max_length=search.MAX_QUERY)):
    return [HitOut(conversation=WorkOut.of(h.conversation), snippet=h.snippet, at=h.at) for h in search.search(q)]


@router.get(
    "/{conversation}", response={200: WorkOut, 404: dict, **ERRORS}, auth=VIEWER, summary="Status, owner, labels"
)
def get_work(request: AuthedRequest, conversation: str):
    return WorkOut.of(ownership.get(conversation))


@router.post(
    "/{conversation}/assign",
    response={200: ChangeOut, 404: dict, 409: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Assign (or unassign) if the assignee is still the one you saw",
)
def assign(request: AuthedRequest, conversation: str, payload: AssignIn):
    conv = ownership.get(conversation)
    return _change(ownership.assign(conv, payload.assignee, expected=payload.expected, user=request.auth))


@router.post(
    "/{conversation}/status",
    response={200: ChangeOut, 404: dict, 409: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Open, pending or resolved, if the status is still the one you saw",
)
def set_status(request: AuthedRequest, conversation: str, payload: StatusIn):
    conv = ownership.get(conversation)
    return _change(ownership.set_status(conv, payload.status, expected=payload.expected, user=request.auth))


@router.post(
    "/{conversation}/undo",
    response={200: ChangeOut, 404: dict, 409: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Undo an assignment or status change, if nothing changed since",
)
def undo(request: AuthedRequest, conversation: str, payload: UndoIn):
    return _change(ownership.undo(conversation, payload.token, user=request.auth))


@router.post(
    "/{conversation}/labels",
    response={200: WorkOut, 404: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Add and remove labels",
)
def change_labels(request: AuthedRequest, conversation: str, payload: LabelsIn):
    conv = ownership.get(conversation)
    for label in payload.add:
        conv = labels.add(conv, label, user=request.auth)
    for label in payload.remove:
        conv = labels.remove(conv, label, user=request.auth)
    conv.refresh(consistent_read=True)
    return WorkOut.of(conv)


@router.get(
    "/{conversation}/notes",
    response={200: list[NoteOut], 404: dict, **ERRORS},
    auth=VIEWER,
    summary="The private notes, oldest first (staff only; never part of the messages)",
)
def list_notes(request: AuthedRequest, conversation: str):
    conv = ownership.get(conversation)
    return [NoteOut.of(n) for n in notes.in_range(conv.key, None, None)]


@router.post(
    "/{conversation}/notes",
    response={201: NoteOut, 404: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Add a private note (never sent to the customer)",
)
def add_note(request: AuthedRequest, conversation: str, payload: NoteIn):
    conv = ownership.get(conversation)
    return Status(201, NoteOut.of(notes.add(conv.key, payload.text, user=request.auth)))
