"""JSON nested deeper than anything we accept is refused with its reason, never a 500.

Two places take JSON from outside: the SNS webhook (anyone may post to it) and the admin's
system-configuration page. ``json.loads`` recurses per level, so ``[`` × 100000 used to raise
RecursionError through both. Hypothesis builds documents of any depth (closed or not, arrays and
objects mixed, with scalars of every JSON type at the bottom) and checks each answer.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wecare import jsonlimits
from wecare.jsonlimits import MAX_DEPTH
from wecare.models import SystemConfig
from wecare.tests.hypothesis_profiles import examples

pytestmark = pytest.mark.django_db

SNS_URL = "/webhooks/sns/"
CONFIG_URL = "/admin/dynamo/config/"

# Strings full of brackets, quotes and backslashes: nesting counts only what is outside them.
tricky_text = st.text(alphabet='[]{}"\\ab', max_size=40)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    tricky_text,
)


@st.composite
def nested(draw) -> tuple[str, int, bool]:
    """(document, its depth, whether it is closed): ``depth`` layers of arrays and objects around a
    scalar, any depth from 0 to 3000, built level by level (json.dumps itself recurses per level,
    and recursive strategies stay shallow)."""
    levels = draw(st.integers(0, 3000))
    choose = draw(st.randoms(use_true_random=False))
    key = json.dumps(draw(tricky_text))
    kinds = [choose.choice("[{") for _ in range(levels)]
    leaf = json.dumps(draw(scalars))
    opening = "".join("[" if kind == "[" else "{" + key + ":" for kind in kinds)
    closing = "".join("]" if kind == "[" else "}" for kind in reversed(kinds))
    closed = draw(st.booleans()) or not kinds  # a bare scalar has nothing to leave open
    return opening + leaf + (closing if closed else ""), levels, closed


# Depths the fuzz must always try: the limit and one past it, open and closed, and the depths
# between the limit and the parser's recursion limit where an open document used to be "not JSON".
EDGES = [
    ("[" * n + "]" * n if closed else "[" * n, n, closed)
    for n in (MAX_DEPTH, MAX_DEPTH + 1, 990)
    for closed in (True, False)
]


def with_edges(test):
    for edge in EDGES:
        test = example(document=edge)(test)
    return test


def test_the_parser_refuses_too_deep_with_its_reason_and_keeps_the_rest():
    assert jsonlimits.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(jsonlimits.TooDeep, match=f"nested deeper than {MAX_DEPTH} levels"):
        jsonlimits.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(jsonlimits.TooDeep):
        jsonlimits.loads("[" * 100_000)
    with pytest.raises(ValueError, match="Expecting property name"):
        jsonlimits.loads("{oops")


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 500, 990, 3000])
def test_a_document_left_open_deeper_than_the_limit_is_too_deep_not_malformed(levels):
    with pytest.raises(jsonlimits.TooDeep):
        jsonlimits.loads("[" * levels)
    with pytest.raises(jsonlimits.TooDeep):
        jsonlimits.loads('{"a":' * levels + "1")


def test_brackets_inside_strings_are_not_nesting():
    assert jsonlimits.loads('["' + "[" * 100 + '"]') == ["[" * 100]
    assert jsonlimits.loads('["\\"' + "{" * 100 + '"]') == ['"' + "{" * 100]  # an escaped quote does not end it
    assert jsonlimits.loads(b'{"[[[[": ["]]]]"]}') == {"[[[[": ["]]]]"]}
    with pytest.raises(jsonlimits.TooDeep):
        jsonlimits.loads('["\\\\"' + "[" * 100)  # an escaped backslash does: the brackets are outside


def test_a_hundred_thousand_brackets_to_the_webhook_are_a_400_with_the_reason(client):
    response = client.post(SNS_URL, data="[" * 100_000, content_type="text/plain; charset=UTF-8")

    assert response.status_code == 400
    assert response.json() == {"code": "TOO_DEEP", "detail": f"JSON nested deeper than {MAX_DEPTH} levels"}


@given(document=nested())
@with_edges
@settings(max_examples=examples(100), deadline=None, suppress_health_check=list(HealthCheck))
def test_the_webhook_answers_any_nesting_with_a_4xx(client, document):
    text, levels, closed = document
    response = client.post(SNS_URL, data=text, content_type="text/plain; charset=UTF-8")

    # Too deep is refused before verification, closed or not; anything else is no signed envelope.
    if levels > MAX_DEPTH:
        assert (response.status_code, response.json()["code"]) == (400, "TOO_DEEP"), (levels, closed)
    else:
        assert (response.status_code, response.json()["code"]) == (403, "UNVERIFIED"), (levels, closed)


@pytest.fixture
def admin(client_for, admin_user):
    return client_for(admin_user)


def test_the_config_page_refuses_a_hundred_thousand_brackets_with_a_form_error(admin):
    SystemConfig(
        configKey="deepTest",
        configValue=True,
        updatedBy="test",
        updatedAt=SystemConfig.updatedAt.deserialize("2026-01-01T00:00:00.000000+0000"),
    ).save()

    response = admin.post(CONFIG_URL, {"configKey": "deepTest", "configValue": "[" * 100_000})

    assert response.status_code == 422
    assert f"deepTest: JSON nested deeper than {MAX_DEPTH} levels" in response.content.decode()
    assert SystemConfig.get("deepTest").configValue is True


@given(document=nested())
@with_edges
@settings(max_examples=examples(100), deadline=None, suppress_health_check=list(HealthCheck))
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
