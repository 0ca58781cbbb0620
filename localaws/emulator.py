"""The local AWS emulator: moto, with emulator-only fixes so DynamoDB behaves like DynamoDB and
SQS answers as fast with a thousand messages queued as with ten.

Used by the dev stack (``python -m localaws.emulator -H 127.0.0.1 -p 5000`` instead of
``moto_server``), the test suite (in process) and the benchmarks.

1. **Writes are serialized.** moto handles each request in its own thread and checks a
   conditional write's condition and then writes with nothing held in between, so two racing
   writers can both pass (seen as rate-limit windows over their limit, lost updates, two
   contacts with one phone). Real DynamoDB serializes writes to an item, which the uniqueness
   keys, the rate limits and the tier rely on. Reads stay concurrent.
2. **A transaction backs up only its own items.** moto 5's ``transact_write_items`` deep-copies
   every table it touches, once per item, to roll back on failure: each transaction costs time
   in proportion to the tables' size, so a large contact import is quadratic (figures in
   bench/README.md). Here the backup is an undo log of the named items, restored in reverse
   order if moto cancels the transaction. What moto checks and applies, and the errors it
   returns, are unchanged.
3. **ReceiveMessage reads a queue's retention period directly.** moto 5 asks the queue for all
   its attributes, which counts every message in it, once per message it returns: a receive
   costs time in proportion to the queue's length, and a worker draining a queue of a few
   hundred messages waited most of a second per receive (bench/README.md, "outbound"). The
   check itself (a message older than the retention period is not returned) is unchanged.
4. **Connections are kept alive** (``KeepAliveMotoServer``, the test suite's server). werkzeug's
   server, under moto's, answers every request with ``Connection: close``, so each AWS call
   opened a new TCP connection (and the server a new thread). Its handler here reads a request's
   whole body first and leaves the connection open, as botocore's connection pool expects.
"""

from __future__ import annotations

import copy
import functools
import io
import sys
import threading
import types
from typing import Any

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_installed = False


def install() -> None:
    """Apply the fixes to moto in this process (idempotent)."""
    global _installed
    if _installed:
        return
    cheap_transaction_backups()
    serialize_writes()
    quick_sqs_retention_check()
    _installed = True


def quick_sqs_retention_check() -> None:
    """Judge a message's age against its queue's retention period without counting the queue."""
    # moto is imported when the emulator is installed (see serialize_writes).
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def serialize_writes() -> None:
    """Run moto's DynamoDB write operations one at a time."""
    # moto is imported when the emulator is installed, not when this module is: the settings of the
    # tests and the dev stack import this module, and moto's import takes seconds.
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()  # re-entrant: a transaction calls put_item/update_item itself

    def serialized(method):
        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return run

    for name in WRITES:
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))


def cheap_transaction_backups() -> None:
    """Back up only the items a transaction names, not whole tables (see the module docstring)."""
    # moto is imported when the emulator is installed, not when this module is: the settings of the
    # tests and the dev stack import this module, and moto's import takes seconds.
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_undo_log", False):
        return
    original = DynamoDBBackend.transact_write_items

    def deepcopy(obj: Any, memo: dict | None = None) -> Any:
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    # The module's own `copy` name, so only its deepcopy of a Table changes.
    backend_module.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)

    def _key(table: Table, op_type: str, op: dict) -> tuple[DynamoType, DynamoType | None] | None:
        attrs = op.get("Item") if op_type == "Put" else op.get("Key")
        if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
            return None
        range_value = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in attrs:
                return None
            range_value = DynamoType(attrs[table.range_key_attr])
        return DynamoType(attrs[table.hash_key_attr]), range_value

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        undo: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for item in transact_items if len(transact_items) <= 100 else []:
            if len(item) != 1:
                continue
            op_type, op = next(iter(item.items()))
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = _key(table, op_type, op) if table is not None else None
            if key is None:
                continue
            undo.append((table, *key, copy.deepcopy(table.get_item(*key))))
        try:
            original(self, transact_items)
        except (TransactionCanceledException, MultipleTransactionsException, MockValidationException):
            for table, hash_value, range_value, before in reversed(undo):
                if range_value is not None:
                    if before is None:
                        table.items.get(hash_value, {}).pop(range_value, None)
                    else:
                        table.items[hash_value][range_value] = before
                elif before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
            raise

    transact_write_items._undo_log = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items


def _keep_alive_server_classes() -> tuple[type, type]:
    """moto's threaded server with a handler that keeps connections open. Built on first use: moto
    and werkzeug are imported only once the process wants a server."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class KeepAliveHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this, an answer on a kept connection waits for the client's delayed ACK (Nagle).
        disable_nagle_algorithm = True
        _keep_alive = False

        def run_wsgi(self) -> None:
            # werkzeug closes every connection because after an answer it reads whatever is left on
            # the socket (an unread body), which on a kept connection would be the next request.
            # So the body is read here first, exactly Content-Length bytes, and the application
            # (and that drain) read it from memory. A chunked body, or one the client sends only
            # after "100 Continue", takes werkzeug's own path and closes as before.
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            if chunked or self.headers.get("Expect", "").strip().lower() == "100-continue":
                super().run_wsgi()
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            connection_file, self.rfile = self.rfile, io.BytesIO(body)
            self._keep_alive = True
            try:
                super().run_wsgi()
            finally:
                self.rfile = connection_file
                self._keep_alive = False

        def send_header(self, keyword: str, value: str) -> None:
            if self._keep_alive and keyword.lower() == "connection" and value.lower() == "close":
                return  # werkzeug's unconditional close; http.server still closes on errors of its own
            super().send_header(keyword, value)

    class KeepAliveMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(
                self._ip_address, self._port, app, threaded=True, request_handler=KeepAliveHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return KeepAliveHandler, KeepAliveMotoServer


def keep_alive_server(host: str, port: int) -> Any:
    """A moto server in a thread of this process (moto's ``ThreadedMotoServer``: ``start()``,
    ``stop()``) that keeps connections alive (fix 4); call ``install()`` first."""
    return _keep_alive_server_classes()[1](ip_address=host, port=port, verbose=False)


def main() -> int:
    install()
    # After install(): moto's server must start with the patched backend classes.
    from moto.server import main as moto_main

    sys.argv[0] = "moto_server"
    moto_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
