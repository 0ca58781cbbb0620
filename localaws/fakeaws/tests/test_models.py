"""The fake's reading of botocore's service models: routes, patterns it cannot use, and its own
answers checked against the output shapes."""

from __future__ import annotations

from django.conf import settings

from localaws.fakeaws import patterns
from localaws.fakeaws.account import DEFAULT_PHONE_NUMBER_IDS
from localaws.fakeaws.catalog import Catalog
from localaws.fakeaws.patterns import compile_pattern, translate
from localaws.fakeaws.validation import validate

# Java regexes in the models that Python's `re` cannot express (Unicode category \P{C}); values of
# these members are checked for type and length only. All are bedrock-agent-runtime's: ACL filters
# the fake is never sent, and the documentId its Retrieve results leave out. If botocore adds one,
# this list says so.
UNUSABLE_PATTERNS = {"^\\P{C}*$": {"DocumentAclGroupIdString", "DocumentAclUserIdString", "DocumentId"}}


def every_pattern(catalog: Catalog) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for service in catalog.services.values():
        for name, shape in service.model._shape_resolver._shape_map.items():
            if "pattern" in shape:
                found.setdefault(shape["pattern"], set()).add(name)
    return found


def test_every_pattern_compiles_except_the_known_few():
    found = every_pattern(Catalog())
    unusable = {p: names for p, names in found.items() if compile_pattern(p) is None}
    assert unusable == UNUSABLE_PATTERNS
    assert set(patterns.SKIPPED) == set(UNUSABLE_PATTERNS)
    assert len(found) > 50  # the walk really saw the models


def test_java_only_escapes_are_translated_and_escaped_backslashes_left_alone():
    assert translate(r"^\p{Alnum}+\z") == r"^[A-Za-z0-9]+\Z"
    assert translate(r"a\\z") == r"a\\z"  # a literal backslash, then z
    assert compile_pattern(r"\p{Alpha}{2}").fullmatch("ab")


def test_patterns_must_match_the_whole_value():
    shape = Catalog(("pinpoint-sms-voice-v2",)).services["pinpoint-sms-voice-v2"].model.shape_for("TextMessageBody")
    assert validate(shape, "hello") == []
    assert validate(shape, "   ") != []  # (?!\s*$)[\s\S]+ : blank is refused


def test_routes_find_operations_by_method_and_path():
    catalog = Catalog()
    service, operation, labels = catalog.by_path("POST", "/v1/whatsapp/send", {}, "")
    assert (service.name, operation.name, labels) == ("socialmessaging", "SendWhatsAppMessage", {})
    assert catalog.by_path("GET", "/v1/whatsapp/template", {}, "")[1].name == "GetWhatsAppMessageTemplate"
    assert catalog.by_path("DELETE", "/v1/whatsapp/template", {}, "")[1].name == "DeleteWhatsAppMessageTemplate"
    _, operation, labels = catalog.by_path("POST", "/knowledgebases/FZBPKGTOYE/retrieve", {}, "")
    assert (operation.name, labels) == ("Retrieve", {"knowledgeBaseId": "FZBPKGTOYE"})
    assert catalog.by_path("GET", "/v1/whatsapp/nothing", {}, "") is None
    assert catalog.by_target("PinpointSMSVoiceV2.SendTextMessage")[1].name == "SendTextMessage"


def test_the_fake_links_the_same_numbers_the_settings_default_to():
    assert list(DEFAULT_PHONE_NUMBER_IDS) == settings.WHATSAPP_PHONE_NUMBER_IDS
