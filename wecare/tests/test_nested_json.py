"""JSON nested deeper than anything we accept is refused with its reason, never a 500.

Two places take JSON from outside: the SNS webhook (anyone may post to it) and the admin's
system-configuration page. ``json.loads`` recurses per level, so ``[`` × 100000 used to raise
RecursionError through both. Hypothesis builds documents of any depth (closed or not, arrays and
objects mixed, with scalars of every JSON type at the bottom) and checks each answer.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wecare import jsonlimits
from wecare.jsonlimits import MAX_DEPTH
from wecare.models import SystemConfig

pytestmark = pytest.mark.django_db

SNS_URL = "/webhooks/sns/"
CONFIG_URL = "/admin/dynamo/config/"

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))


@st.composite
def nested(draw, max_depth: int = 3000) -> tuple[str, int, bool]:
    """(document, its depth, whether it is closed): layers of arrays and objects around a scalar,
    written by hand because json.dumps itself recurses per level."""
    kinds = draw(st.lists(st.sampled_from("[{"), max_size=max_depth))
    leaf = json.dumps(draw(scalars))
    opening = "".join("[" if kind == "[" else '{"k":' for kind in kinds)
    closing = "".join("]" if kind == "[" else "}" for kind in reversed(kinds))
    closed = draw(st.booleans()) or not kinds  # a bare scalar has nothing to leave open
    return opening + leaf + (closing if closed else ""), len(kinds), closed


def test_the_parser_refuses_too_deep_with_its_reason_and_keeps_the_rest():
    assert jsonlimits.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(jsonlimits.TooDeep, match=f"nested deeper than {MAX_DEPTH} levels"):
        jsonlimits.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(jsonlimits.TooDeep):
        jsonlimits.loads("[" * 100_000)
    with pytest.raises(ValueError):
        jsonlimits.loads("{oops")


def test_a_hundred_thousand_brackets_to_the_webhook_are_a_400_with_the_reason(client):
    response = client.post(SNS_URL, data="[" * 100_000, content_type="text/plain; charset=UTF-8")

    assert response.status_code == 400
    assert response.json() == {"code": "TOO_DEEP", "detail": f"JSON nested deeper than {MAX_DEPTH} levels"}


@given(document=nested())
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_webhook_answers_any_nesting_with_a_4xx(client, document):
    text, levels, closed = document
    response = client.post(SNS_URL, data=text, content_type="text/plain; charset=UTF-8")

    # Too deep is refused before verification; anything else is no signed envelope (403).
    assert response.status_code == (400 if levels > MAX_DEPTH else 403), (levels, closed, response.content[:200])


@pytest.fixture
def admin(client_for, admin_user):
    return client_for(admin_user)


def test_the_config_page_refuses_a_hundred_thousand_brackets_with_a_form_error(admin):
    SystemConfig(configKey="deepTest", configValue=True, updatedBy="test", updatedAt=SystemConfig.updatedAt.deserialize("2026-01-01T00:00:00.000000+0000")).save()

    response = admin.post(CONFIG_URL, {"configKey": "deepTest", "configValue": "[" * 100_000})

    assert response.status_code == 422
    assert f"deepTest: JSON nested deeper than {MAX_DEPTH} levels" in response.content.decode()
    assert SystemConfig.get("deepTest").configValue is True


@given(document=nested(max_depth=200))
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_config_page_stores_what_it_accepts_and_refuses_the_rest_with_a_reason(admin, document):
    text, levels, closed = document

    response = admin.post(CONFIG_URL, {"configKey": "fuzzedConfig", "configValue": text})

    page = response.content.decode()
    if levels > MAX_DEPTH:
        assert response.status_code == 422 and "nested deeper than" in page
    elif not closed:
        assert response.status_code == 422 and "not valid JSON" in page
    elif text == "null":
        assert response.status_code == 422 and "null is not a value" in page
    else:
        assert response.status_code == 302, page[:500]
        assert SystemConfig.get("fuzzedConfig").configValue == json.loads(text)
