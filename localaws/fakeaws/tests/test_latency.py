"""Provider latency at the fake: a call waits mean ± jitter before its answer, calls in flight at
once overlap (each waits on its own server thread, as at AWS), other operations are not slowed,
and a bad rule is refused with a reason."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from localaws.fakeaws.tests.helpers import PHONE, whatsapp_text
from localaws.fakeaws.tests.test_sms_and_controls import control


def send(social) -> float:
    began = time.perf_counter()
    social.send_whatsapp_message(originationPhoneNumberId=PHONE, message=whatsapp_text(), metaApiVersion="v20.0")
    return time.perf_counter() - began


def test_a_call_waits_its_latency_and_other_operations_do_not(social, fake_aws_clean):
    send(social)  # a first call opens the connection, so the timed ones measure the fake alone
    fake_aws_clean.set_latency(300, 50, operation="SendWhatsAppMessage")

    took = [send(social) for _ in range(4)]

    assert all(t >= 0.25 for t in took), took  # 300 ms ± 50 ms, plus the call itself
    assert all(
        0.25 <= fake_aws_clean.state.latency_for("socialmessaging", "SendWhatsAppMessage") <= 0.35 for _ in range(50)
    )
    assert fake_aws_clean.state.latency_for("socialmessaging", "ListLinkedWhatsAppBusinessAccounts") == 0
    assert len(fake_aws_clean.calls("SendWhatsAppMessage")) == 5


def test_calls_in_flight_at_once_overlap_as_at_a_real_provider(social, fake_aws_clean):
    send(social)
    fake_aws_clean.set_latency(400, operation="SendWhatsAppMessage")
    began = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        took = list(pool.map(lambda _: send(social), range(8)))
    wall = time.perf_counter() - began

    assert min(took) >= 0.4, took
    assert wall < 8 * 0.4 * 0.75, wall  # one after another they would take 3.2 s at least


def test_the_rule_is_listed_replaced_cleared_and_reset(fake_aws_clean):
    url = fake_aws_clean.url + "/__fake/latency"
    assert control(url, "POST", {"mean_ms": 250, "jitter_ms": 50})[0] == 201  # every operation
    assert control(url, "POST", {"mean_ms": 100, "operation": "SendWhatsAppMessage"})[0] == 201
    assert control(url, "POST", {"mean_ms": 200, "operation": "SendWhatsAppMessage"})[0] == 201  # replaces it
    status, body = control(url)
    assert status == 200
    assert sorted((rule["operation"] or "*", rule["mean_ms"]) for rule in body["latency"]) == [
        ("*", 250.0),
        ("SendWhatsAppMessage", 200.0),
    ]
    assert fake_aws_clean.state.latency_for("socialmessaging", "SendWhatsAppMessage") == 0.2  # the specific rule
    assert control(url, "DELETE") == (200, {"latency": []})
    fake_aws_clean.set_latency(250)
    fake_aws_clean.reset()
    assert control(url) == (200, {"latency": []})


def test_a_bad_rule_is_refused_with_what_to_fix(fake_aws_clean):
    url = fake_aws_clean.url + "/__fake/latency"
    for body, says in [
        ({"jitter_ms": 5}, "0 <= jitter_ms <= mean_ms"),
        ({"mean_ms": 10, "jitter_ms": 20}, "0 <= jitter_ms <= mean_ms"),
        ({"mean_ms": "fast"}, "0 <= jitter_ms <= mean_ms"),
        ({"mean_ms": 10, "operation": "SendCarrierPigeon"}, "no faked service has the operation"),
        ({"mean_ms": 10, "service": "s3"}, "is not faked here"),
        ({"mean_ms": 10, "speed": 1}, "unknown latency fields: speed"),
        ([1, 2], "latency is"),
    ]:
        status, answer = control(url, "POST", body)
        assert status == 400 and says in answer["message"], (body, answer)
    assert control(url) == (200, {"latency": []})
