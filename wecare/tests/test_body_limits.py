"""How large a request body may be: 2.5 MiB (Django's DATA_UPLOAD_MAX_MEMORY_SIZE) for every API
operation but the two that carry a bulk audience's CSV, which take a 5 MiB CSV however its JSON
escapes it. Above its limit an operation answers 413 naming the limit (it used to be a 500: ninja
let Django's RequestDataTooBig through)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.conf import settings
from django.test import Client

from bulk.audience import MAX_CSV_BYTES
from messaging.api import MEDIA_BODY_LIMIT
from wecare.bodylimits import BULK_BODY_LIMIT, MIB, allow_body_up_to
from wecare.tests.signing import SigningKey

pytestmark = pytest.mark.django_db
JSON = "application/json"


def csv_of(size: int, row: str) -> str:
    """A CSV of exactly ``size`` UTF-8 bytes: a header, then ``row`` again and again, padded."""
    header = "phone,param1\n"
    text = header + row * ((size - len(header.encode())) // len(row.encode()))
    return text + "x" * (size - len(text.encode()))


def preview_body(csv_text: str, *, ensure_ascii: bool = True) -> bytes:
    return json.dumps(
        {"audience": {"csv": csv_text}, "channel": "sms", "message": {"text": "Hi {{1}}"}}, ensure_ascii=ensure_ascii
    ).encode()


def rows_in(csv_text: str) -> int:
    return sum(1 for _ in csv.DictReader(io.StringIO(csv_text)))


def preview(client, body: bytes) -> dict:
    response = client.post("/api/bulk/jobs/preview", body, content_type=JSON)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_a_5_mib_csv_whose_json_is_far_larger_is_previewed(client_for, operator):
    # Most of each row is escaped in JSON: a quote as \", é (two bytes) as \u00e9 (six).
    row = 'not-a-phone,"' + '""é' * 50 + '"\n'
    csv_text = csv_of(MAX_CSV_BYTES, row)
    body = preview_body(csv_text)
    assert len(body) > 2 * MAX_CSV_BYTES > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    result = preview(client_for(operator), body)

    assert result["total"] == rows_in(csv_text) and result["refused"] == {"INVALID_ADDRESS": rows_in(csv_text)}


def test_the_worst_escaping_of_a_5_mib_csv_still_fits(client_for, operator):
    """A control character is six bytes in JSON (\\u0001): the most any byte of a CSV can cost."""
    csv_text = csv_of(MAX_CSV_BYTES, "\x01" * 199 + "\n")
    body = preview_body(csv_text)
    assert len(body) > 5.9 * MAX_CSV_BYTES

    result = preview(client_for(operator), body)

    assert result["total"] == rows_in(csv_text) and result["refused"] == {"INVALID_ADDRESS": rows_in(csv_text)}


@pytest.mark.parametrize("path", ["/api/bulk/jobs/preview", "/api/bulk/jobs"])
def test_a_bulk_body_over_its_limit_is_413_naming_the_limit(client_for, operator, path):
    body = b'{"audience": {"csv": "' + b"a" * BULK_BODY_LIMIT + b'"}}'

    response = client_for(operator).post(path, body, content_type=JSON)

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body over the limit of {BULK_BODY_LIMIT} bytes (32 MiB) for this operation"
    }


def test_any_other_json_body_over_2_5_mib_is_413_naming_the_limit(client_for, operator):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"name": "x" * limit, "phone": "+14155550123"}).encode()

    response = client_for(operator).post("/api/contacts", body, content_type=JSON)

    assert response.status_code == 413
    assert response.json() == {"detail": f"request body over the limit of {limit} bytes (2.5 MiB) for this operation"}


class CountingStream(io.BytesIO):
    """A request body that counts the bytes the app reads from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def post_counted(client, path: str, body: bytes, **headers: str) -> tuple[int, int]:
    """POST ``body`` with the WSGI input replaced by a CountingStream: (status, bytes read)."""
    stream = CountingStream(body)
    response = client.post(path, body, content_type=JSON, **{"wsgi.input": stream}, **headers)
    return response.status_code, stream.bytes_read


# Over 2.5 MiB, under the bulk limit; few rows, so that previewing it is quick.
LARGE_BULK_BODY = preview_body(csv_of(4 * MIB, "not-a-phone," + "x" * 100_000 + "\n"))
NOBODY = {
    "anonymous": {},
    "not a bearer header": {"HTTP_AUTHORIZATION": "x"},
    "a bearer that is not a JWT": {"HTTP_AUTHORIZATION": "Bearer not-a-token"},
    "a JWT of another issuer's key": {
        "HTTP_AUTHORIZATION": "Bearer " + SigningKey("not-in-the-jwks").sign({"sub": "x", "token_use": "id"})
    },
}


@pytest.mark.parametrize("headers", NOBODY.values(), ids=NOBODY.keys())
@pytest.mark.parametrize("path", ["/api/bulk/jobs/preview", "/api/bulk/jobs", "/api/contacts"])
def test_a_large_body_from_no_one_is_refused_before_a_byte_of_it_is_read(client, user_pool, path, headers):
    fetches_before = user_pool.jwks_fetches

    status, bytes_read = post_counted(client, path, LARGE_BULK_BODY, **headers)

    assert (status, bytes_read) == (401, 0)
    assert user_pool.jwks_fetches - fetches_before <= 1  # an unknown key id: one fetch, not one per check


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_a_large_bulk_body_with_a_bearer_token_that_verifies_is_read_once_and_previewed(user_pool, token_use):
    token = user_pool.token(token_use, **{"cognito:groups": ["Operator"]})

    status, bytes_read = post_counted(
        Client(), "/api/bulk/jobs/preview", LARGE_BULK_BODY, HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert (status, bytes_read) == (200, len(LARGE_BULK_BODY))


@pytest.mark.parametrize("who", ["anonymous", "operator"])
def test_a_media_upload_declared_over_the_largest_whatsapp_file_is_413_before_it_is_read(client_for, operator, who):
    """WhatsApp's largest media are 100 MB documents; the multipart body around one gets 1 MiB."""
    assert MEDIA_BODY_LIMIT == 101 * MIB
    client = client_for(operator) if who == "operator" else Client()
    body = b"--boundary\r\n"  # all that is there: a body that size is never needed to refuse it
    stream = CountingStream(body)

    response = client.post(
        "/api/messages/media",
        body,
        content_type="multipart/form-data; boundary=boundary",
        CONTENT_LENGTH=str(MEDIA_BODY_LIMIT + 1),
        **{"wsgi.input": stream},
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body over the limit of {MEDIA_BODY_LIMIT} bytes (101 MiB) for this operation"
    }
    assert stream.bytes_read == 0


def test_a_media_upload_within_the_limit_is_read_and_checked(client_for, operator):
    """Under the cap the body is read and the file's content decides (here: not a WhatsApp type)."""
    response = client_for(operator).post("/api/messages/media", {"file": io.BytesIO(b"<svg onload=alert(1)>")})

    assert response.status_code == 422 and "file" in str(response.json())


@pytest.mark.parametrize(("who", "read"), [("anonymous", False), ("operator", True)])
def test_a_large_bulk_body_is_read_only_for_someone_logged_in(rf, operator, who, read):
    """Anonymous requests go to the operation's auth (a 401) without their body being read."""
    from django.contrib.auth.models import AnonymousUser

    request = rf.post("/api/bulk/jobs/preview", b"x" * (3 * MIB), content_type=JSON)
    request.user = operator if who == "operator" else AnonymousUser()
    seen = {}

    def run(request):
        seen["body read"] = hasattr(request, "_body")

    allow_body_up_to(BULK_BODY_LIMIT)(run)(request)

    assert seen == {"body read": read}
