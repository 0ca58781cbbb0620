"""The admin's switch and choices for the agent (the one ``AgentSettings`` item): whether
automation is on (off until an admin turns it on) and which persona answers for each business
number. Every change is a conditional update on the version the admin's page showed, and audited.
docs/design/agent.md, "The switch".
"""

from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import PutError

from ai.models import AgentSettings
from wecare import audit
from wecare.dynamo import now
from wecare.errors import Conflict

ITEM = "agent"

# The listener asks whether to queue a draft for every inbound message; it may go by the switch as
# this process read it up to this many seconds ago. The task re-reads the switch consistently, so
# turned off means nothing written at once, and at most this long of queued tasks that stop at once;
# turned on, a message may go undrafted for at most this long (at once in the process that turned it).
SWITCH_MAX_AGE_SECONDS = 3.0
_switch_seen: tuple[float, bool] | None = None  # (monotonic time read, automation)


def current() -> AgentSettings:
    """The settings as stored; defaults (automation off, no personas) before any admin acted."""
    try:
        return AgentSettings.get(ITEM, consistent_read=True)
    except AgentSettings.DoesNotExist:
        return or_default(None)


def or_default(item: AgentSettings | None) -> AgentSettings:
    """``item`` (the settings as a caller read them), or the defaults when there is none yet."""
    return item if item is not None else AgentSettings(name=ITEM, automation=False, version=0)


def automation_on() -> bool:
    return bool(current().automation)


def automation_on_lately() -> bool:
    """The switch as this process read it at most SWITCH_MAX_AGE_SECONDS ago (read now if older):
    for the listener, which must not cost a read per inbound message."""
    global _switch_seen
    seen = _switch_seen
    if seen is None or time.monotonic() - seen[0] > SWITCH_MAX_AGE_SECONDS:
        seen = (time.monotonic(), automation_on())
        _switch_seen = seen
    return seen[1]


def forget_switch() -> None:
    """Drop the switch this process read for the listener (a change here takes effect at once)."""
    global _switch_seen
    _switch_seen = None


def persona_for(phone_number_id: str | None) -> str | None:
    """The persona id chosen for this business number, if an admin chose one."""
    chosen = current().personaByNumber
    if not phone_number_id or chosen is None:
        return None
    return chosen.as_dict().get(phone_number_id)


def set_automation(on: bool, *, user: Any, expected_version: int | None = None) -> AgentSettings:
    return _change(user, expected_version, "agent.automation", automation=on)


def set_persona(
    phone_number_id: str, persona_id: str | None, *, user: Any, expected_version: int | None = None
) -> AgentSettings:
    """Choose (or, with None, clear) the persona a business number answers with."""
    settings_item = current()
    chosen = dict(settings_item.personaByNumber.as_dict()) if settings_item.personaByNumber else {}
    if persona_id:
        chosen[phone_number_id] = persona_id
    else:
        chosen.pop(phone_number_id, None)
    return _change(user, expected_version, "agent.persona", personaByNumber=chosen, number=phone_number_id)


def _change(
    user: Any, expected_version: int | None, action: str, number: str | None = None, **fields: Any
) -> AgentSettings:
    item = current()
    seen = item.version if expected_version is None else expected_version
    if item.version != seen:
        raise Conflict("the agent's settings changed since this page was shown; reload to see them")
    for name, value in fields.items():
        setattr(item, name, value)
    item.version = seen + 1
    item.updatedAt = now().isoformat()
    item.updatedBy = audit.actor_id(user)
    condition = AgentSettings.version == seen if seen else AgentSettings.name.does_not_exist()
    try:
        item.save(condition=condition)
    except PutError as exc:
        raise Conflict("the agent's settings changed since this page was shown; reload to see them") from exc
    forget_switch()
    audit.record(
        user,
        action,
        "agent",
        ITEM,
        **{k: v for k, v in fields.items() if k != "personaByNumber"},
        **({"number": number} if number else {}),
    )
    return item
