import io
import json
import logging

from wecare.logs import ContextFilter, request_id_var
from wecare.metrics import emit


def test_log_lines_carry_the_request_id_and_log_group(client, settings):
    record = logging.LogRecord("wecare.test", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("abc123")
    try:
        ContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert (record.request_id, record.log_group) == ("abc123", "/base-wecare-digital/common")


def test_each_response_names_its_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-request-12345")
    assert response["X-Request-Id"] == "lb-request-12345"
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-Id"]) == 32


def test_json_formatter_writes_one_object_per_line(settings):
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("wecare.test.json")
    logger.addHandler(handler)
    try:
        logger.warning("refused", extra={"reason": "CONSENT_NEVER_GIVEN"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert (
        line["message"] == "refused"
        and line["reason"] == "CONSENT_NEVER_GIVEN"
        and line["log_group"] == "/base-wecare-digital/common"
    )


def test_metrics_are_cloudwatch_embedded_metric_format():
    stream = io.StringIO()
    emit("MessagesSent", 3, channel="sms", stream=stream)
    record = json.loads(stream.getvalue())
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Metrics"] == [{"Name": "MessagesSent", "Unit": "Count"}]
    assert directive["Dimensions"] == [["channel"]]
    assert record["MessagesSent"] == 3 and record["channel"] == "sms"
    assert record["_aws"]["LogGroupName"] == "/base-wecare-digital/common"


def test_the_health_check_answers_any_host_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["app.wecare.digital"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert client.get("/contacts/", HTTP_HOST="10.0.3.17:8000").status_code == 400
