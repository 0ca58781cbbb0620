"""The fake as a real HTTP server on loopback, reached by boto3 clients through `endpoint_url`.

A real socket (not a Stubber, not a patched client) so that the app's own clients, with their
serializers, signers, retries and error parsing, run exactly as against AWS.
"""

from __future__ import annotations

import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localaws.fakeaws import controls
from localaws.fakeaws.app import FakeAws
from localaws.fakeaws.state import FakeState

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    # Without this, each answer waits for the client's delayed ACK (Nagle's algorithm).
    disable_nagle_algorithm = True
    # Keep-alive, as botocore's connection pool expects; every answer carries Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "wecare-fakeaws"
    server: _Server

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(411, b'{"message": "send a Content-Length"}', {"Content-Type": "application/json"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        if answer.frames is not None:
            self._stream(answer.status, answer.headers, answer.frames, answer.cut_after)
        else:
            self._send(answer.status, answer.body, answer.headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _stream(self, status: int, headers: dict[str, str], frames: list[bytes], cut_after: int | None) -> None:
        """An event stream as AWS sends one: chunked, a message a chunk, written as it is ready."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for frame in frames[:cut_after]:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        if cut_after is not None:
            # The connection drops midway: no end of the body, and nothing more on this socket.
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # `format`: the stdlib's parameter name
        log.debug("fakeaws: %s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process (or the test session) alive
    # socketserver listens with a backlog of 5: workers opening dozens of connections at once (calls
    # in flight) would find it full. A real endpoint takes them all.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], fake: FakeAws):
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away before its answer (a worker killed mid-call, a timeout) is
        # what a real endpoint sees too: not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            log.debug("fakeaws: %s went away before its answer", client_address)
            return
        super().handle_error(request, client_address)


class FakeAwsServer:
    """The fake in a background thread, for tests and for `python -m localaws.fakeaws`.

    server = FakeAwsServer(port=0).start()     # port 0: any free port
    boto3.client("socialmessaging", endpoint_url=server.url, ...)
    server.calls("SendWhatsAppMessage"); server.fail("SendWhatsAppMessage", "ThrottlingException", times=3)
    server.reset(); server.stop()
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, s3_endpoint_url: str | None = None):
        self.host, self.port = host, port
        self.state = FakeState()
        self.fake = FakeAws(state=self.state, s3_endpoint_url=s3_endpoint_url)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeAwsServer:
        self._server = _Server((self.host, self.port), self.fake)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeaws", daemon=True)
        self._thread.start()
        log.info("fakeaws: listening on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` (from another thread or a signal handler)."""
        self._server = _Server((self.host, self.port), self.fake)
        self.port = self._server.server_address[1]
        log.info("fakeaws: listening on %s", self.url)
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAwsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the controls, in process ----------------------------------------------------------------
    def calls(self, operation: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
        return self.state.calls(operation, service)

    def call_count(self) -> int:
        return self.state.call_count()

    def rejected(self, operation: str | None = None) -> list[dict[str, Any]]:
        return self.state.rejected(operation)

    def reset(self) -> None:
        self.state.reset()

    def fail(
        self,
        operation: str,
        error: str = "ThrottlingException",
        status: int | None = None,
        message: str | None = None,
        times: int = 1,
        service: str | None = None,
        midway: bool = False,
    ) -> None:
        """The next ``times`` valid calls of ``operation`` answer ``error`` (status from the model
        or the usual one for the code when not given), then it answers normally again. With
        ``midway`` (InvokeAgent), they are answered and their stream breaks after its first event."""
        spec = {"operation": operation, "error": error, "status": status, "message": message}
        spec |= {"times": times, "service": service, "midway": midway}
        # Checked as the control checks it: a ValueError (ControlError) says what is wrong.
        controls.add_fault(self.fake, {k: v for k, v in spec.items() if v is not None})

    def rename_number(self, phone_number_id: str, name: str) -> None:
        """Meta approved ``name`` as the linked number's display name (as its phone_number_name_update
        webhook then reports): AWS answers it from now on, until ``reset()``."""
        controls.rename_number(self.fake, {"id": phone_number_id, "name": name})

    def set_bedrock_mode(self, mode: str) -> str:
        """ "acting": the agent's drafts try to act and its streams end with a returnControl event;
        "answer": the normal mode (also after ``reset()``)."""
        return controls.set_bedrock_mode(self.state, {"mode": mode})

    def set_latency(
        self, mean_ms: float, jitter_ms: float = 0.0, operation: str | None = None, service: str | None = None
    ) -> dict[str, Any]:
        """Calls (of ``operation``, or every call) wait ``mean_ms`` ± ``jitter_ms`` before their answer."""
        spec = {"mean_ms": mean_ms, "jitter_ms": jitter_ms, "operation": operation, "service": service}
        return controls.set_latency(self.fake, {k: v for k, v in spec.items() if v is not None})

    def forget_media(self, media_id: str | None = None) -> int:
        """WhatsApp forgets an uploaded media id (every one without), as it does after 30 days."""
        return self.state.forget_media(media_id)

    def opt_out(self, number: str, opt_out_list: str = "Default") -> dict[str, Any]:
        """``number`` opts out as when its owner texts STOP to AWS (EndUserOptedOut true)."""
        return controls.customer_opts_out(self.state, {"number": number, "list": opt_out_list})

    def opted_out(self) -> dict[str, list[dict[str, Any]]]:
        """Every SMS opt-out list by name, with its numbers."""
        return controls.opt_outs(self.state)

    def set_templates(self, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return controls.set_templates(self.fake, templates)
