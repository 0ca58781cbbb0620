"""/api/ai/personas: read personas and their versions (viewers), create, edit (a new version, on
the version you saw), archive, and choose the persona of a business number (admins). Mounted by
ai/api.py. docs/design/agent.md, "Personas and leads"."""

from __future__ import annotations

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from ai import agent_settings
from ai.models import Persona
from ai.personas import actions, queries
from wecare.api_auth import ADMIN, VIEWER
from wecare.errors import NotFound
from wecare.http import AuthedRequest

router = Router(tags=["agent"])

ERRORS = {401: dict, 403: dict, 404: dict, 409: dict, 422: dict}
SHORT = 300


class IntentIO(Schema):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=60)
    name: str = Field("", max_length=SHORT)
    triggers: list[str] = Field(default_factory=list, max_length=actions.MAX_LIST)


class GoalIO(Schema):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=60)
    name: str = Field("", max_length=SHORT)
    type: str = Field("collect_info", max_length=60)
    priority: str = Field("medium", description="critical, high, medium or low", max_length=20)


class CompanyIO(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=SHORT)
    industry: str = Field("", max_length=SHORT)
    description: str = Field("", max_length=SHORT)
    address: str = Field("", max_length=SHORT)
    phone: str = Field("", max_length=SHORT)
    hours: str = Field("", max_length=SHORT)


class PersonaIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=actions.LIMITS["name"])
    description: str = Field("", max_length=actions.LIMITS["description"])
    status: str = Field("active", description="active, draft or archived", max_length=20)
    systemPrompt: str = Field(max_length=actions.LIMITS["systemPrompt"])
    tone: str = Field("", max_length=actions.LIMITS["tone"])
    style: str = Field("", max_length=actions.LIMITS["style"])
    responseGuidelines: list[str] = Field(default_factory=list, max_length=actions.MAX_LIST)
    intents: list[IntentIO] = Field(default_factory=list, max_length=actions.MAX_LIST)
    goals: list[GoalIO] = Field(default_factory=list, max_length=actions.MAX_LIST)
    companyInfo: CompanyIO | None = None


class PersonaEditIn(PersonaIn):
    expectedVersion: int = Field(ge=1, description="The version you edited: 409 if another was saved since")


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    expectedVersion: int = Field(ge=1)


class PersonaOut(Schema):
    personaId: str
    version: int
    current: bool
    name: str
    description: str | None
    status: str
    systemPrompt: str
    tone: str | None
    style: str | None
    responseGuidelines: list[str]
    intents: list[dict]
    goals: list[dict]
    companyInfo: dict
    updatedAt: str
    updatedBy: str

    @staticmethod
    def of(p: Persona) -> PersonaOut:
        return PersonaOut(
            personaId=p.personaId,
            version=int(p.version),
            current=p.current == "yes",
            name=p.name,
            description=p.description,
            status=p.status,
            systemPrompt=p.systemPrompt,
            tone=p.tone,
            style=p.style,
            responseGuidelines=p.responseGuidelines or [],
            intents=p.intents or [],
            goals=p.goals or [],
            companyInfo=p.companyInfo or {},
            updatedAt=p.updatedAt,
            updatedBy=p.updatedBy,
        )


class PersonaList(Schema):
    items: list[PersonaOut]


class NumbersOut(Schema):
    personaByNumber: dict[str, str] = Field(description='Business number (or "default") -> persona id')
    version: int = Field(description="Send it back as expectedVersion when you change a choice")


class ChooseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    personaId: str | None = Field(description="An active persona; null clears the choice", max_length=60)
    expectedVersion: int | None = Field(None, ge=0, description="The version of the choices you saw")


def _numbers() -> NumbersOut:
    item = agent_settings.current()
    chosen = item.personaByNumber.as_dict() if item.personaByNumber is not None else {}
    return NumbersOut(personaByNumber=chosen, version=int(item.version))


def _found(persona_id: str, version: int | None = None) -> Persona:
    persona = queries.get(persona_id, version)
    if persona is None:
        raise NotFound(f"no persona {persona_id}" + (f" version {version}" if version else ""))
    return persona


@router.get("", response={200: PersonaList, **ERRORS}, auth=VIEWER, summary="Every persona (its newest version)")
def list_personas(request: AuthedRequest):
    return PersonaList(items=[PersonaOut.of(p) for p in queries.listing()])


@router.post("", response={201: PersonaOut, **ERRORS}, auth=ADMIN, summary="Create a persona (version 1)")
def create_persona(request: AuthedRequest, payload: PersonaIn):
    return Status(201, PersonaOut.of(actions.create(payload.model_dump(), user=request.auth)))


@router.get(
    "/numbers", response={200: NumbersOut, **ERRORS}, auth=VIEWER, summary="The persona each business number uses"
)
def persona_numbers(request: AuthedRequest):
    return _numbers()


@router.put(
    "/numbers/{number}",
    response={200: NumbersOut, **ERRORS},
    auth=ADMIN,
    summary='Choose the persona of a business number ("default": every number without its own)',
)
def choose_persona(request: AuthedRequest, number: str, payload: ChooseIn):
    actions.choose(number, payload.personaId, user=request.auth, expected_version=payload.expectedVersion)
    return _numbers()


@router.get("/{persona_id}", response={200: PersonaOut, **ERRORS}, auth=VIEWER, summary="A persona (or a ?version)")
def get_persona(request: AuthedRequest, persona_id: str, version: int | None = Query(None, ge=1)):
    return PersonaOut.of(_found(persona_id, version))


@router.get(
    "/{persona_id}/versions", response={200: PersonaList, **ERRORS}, auth=VIEWER, summary="Every version, newest first"
)
def persona_versions(request: AuthedRequest, persona_id: str):
    versions = queries.versions(persona_id)
    if not versions:
        raise NotFound(f"no persona {persona_id}")
    return PersonaList(items=[PersonaOut.of(p) for p in versions])


@router.put("/{persona_id}", response={200: PersonaOut, **ERRORS}, auth=ADMIN, summary="Edit: writes version n+1")
def edit_persona(request: AuthedRequest, persona_id: str, payload: PersonaEditIn):
    data = payload.model_dump(exclude={"expectedVersion"})
    return PersonaOut.of(actions.edit(persona_id, data, expected_version=payload.expectedVersion, user=request.auth))


@router.post("/{persona_id}/archive", response={200: PersonaOut, **ERRORS}, auth=ADMIN, summary="Archive a persona")
def archive_persona(request: AuthedRequest, persona_id: str, payload: VersionIn):
    return PersonaOut.of(actions.archive(persona_id, expected_version=payload.expectedVersion, user=request.auth))
