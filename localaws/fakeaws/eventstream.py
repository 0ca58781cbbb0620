"""AWS's event-stream framing (`application/vnd.amazon.eventstream`), written the way AWS writes
it, so botocore's own reader (botocore/eventstream.py) parses the fake's streams as it parses AWS's.

A message is: a prelude (total length, headers length, both big-endian uint32, and the CRC32 of
those 8 bytes), the headers (name length as one byte, the name, a type byte, the value), the payload,
and the CRC32 of everything before it. The fake only writes string headers (type 7: a uint16 length,
then UTF-8), which is all `:event-type`, `:message-type`, `:content-type` and `:exception-type` need.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from typing import Any

_STRING = 7  # the header value type botocore reads with unpack_utf8_string


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("!B", len(raw_name)) + raw_name + struct.pack("!BH", _STRING, len(raw_value)) + raw_value


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message with its two checksums."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4  # prelude, headers, payload, message CRC
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack("!I", crc32(body) & 0xFFFFFFFF)


def event(event_type: str, payload: Any) -> bytes:
    """An event of the stream (`chunk`, `trace`, `returnControl`...), its members as JSON."""
    return message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload, separators=(",", ":")).encode(),
    )


def exception(exception_type: str, text: str) -> bytes:
    """A modeled error inside the stream (`throttlingException`...): botocore raises it as
    EventStreamError while the caller iterates, after the events before it were read."""
    return message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
        json.dumps({"message": text}).encode(),
    )
