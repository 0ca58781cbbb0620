"""The test suite's moto server keeps connections alive (localaws/emulator.py, fix 4): calls reuse
the client's pooled connection, a body is read whole before the next request on the same
connection, and what werkzeug's own path handles (a chunked body) still works, then closes."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

from django.conf import settings


def _connection() -> http.client.HTTPConnection:
    endpoint = urlparse(settings.AWS_ENDPOINT_URL)
    return http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)


def _list_tables(conn: http.client.HTTPConnection, body: bytes = b"{}", **headers: str) -> http.client.HTTPResponse:
    conn.request(
        "POST",
        "/",
        body=body,
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
            **headers,
        },
    )
    return conn.getresponse()


def test_one_connection_carries_many_requests_and_a_chunked_one_closes_it(aws):
    conn = _connection()
    try:
        for _ in range(5):
            answer = _list_tables(conn)
            assert answer.status == 200 and "TableNames" in json.loads(answer.read())
            assert answer.getheader("Connection") != "close"
        socket_before = conn.sock
        answer = _list_tables(conn, body=b'{"Limit": 1}')  # a body on the kept connection, read whole
        assert answer.status == 200 and len(json.loads(answer.read())["TableNames"]) == 1
        assert conn.sock is socket_before  # the same TCP connection all along

        conn.putrequest("POST", "/")  # a chunked body: werkzeug's own path, which closes afterwards
        for name, value in {
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
            "Transfer-Encoding": "chunked",
        }.items():
            conn.putheader(name, value)
        conn.endheaders(b"2\r\n{}\r\n0\r\n\r\n")
        answer = conn.getresponse()
        assert answer.status == 200 and "TableNames" in json.loads(answer.read())
        assert answer.getheader("Connection") == "close"
    finally:
        conn.close()
