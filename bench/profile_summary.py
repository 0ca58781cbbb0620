#!/usr/bin/env python3
"""Where a profiled process's CPU went, by layer: sums py-spy's raw (collapsed) stacks, each sample
charged to the layer of its innermost frame that belongs to one (botocore's signing, endpoint
resolution, serialisation, parsing, event hooks; HTTP; PynamoDB; Celery; the app's own code...).

    py-spy record --gil --subprocesses --format raw -o workers.raw -p <celery worker pid>
    .venv/bin/python bench/profile_summary.py workers.raw

See bench/README.md ("Worker CPU per recipient: where the time goes").
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

# (layer, what a frame's "function (file:line)" contains), tried in this order for each frame from
# the innermost out: the first frame that matches names the layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("botocore: signing (SigV4)", ("botocore/auth.py", "botocore/signers.py", "hmac.py", "hashlib")),
    ("botocore: endpoint resolution", ("botocore/regions.py", "botocore/endpoint_provider.py")),
    ("botocore: serialise and validate", ("botocore/serialize.py", "botocore/validate.py")),
    ("botocore: parse the response", ("botocore/parsers.py",)),
    ("botocore: event hooks", ("botocore/hooks.py", "botocore/handlers.py")),
    (
        "HTTP (urllib3, http.client, sockets)",
        ("urllib3/", "http/client.py", "socket.py", "botocore/awsrequest.py", "botocore/httpsession.py", "email/"),
    ),
    (
        "botocore: client creation",
        ("botocore/session.py", "botocore/loaders.py", "boto3/session.py", "create_client (botocore/"),
    ),
    ("botocore: other", ("botocore/", "jmespath/")),
    ("PynamoDB (models, attributes, expressions)", ("pynamodb/",)),
    ("JSON", ("json/",)),
    ("ULIDs", ("ulid/",)),
    ("logging", ("logging/",)),
    ("the app (bulk, messaging, contacts, wecare)", ("(bulk/", "(messaging/", "(contacts/", "(wecare/")),
    ("Celery, kombu, billiard", ("celery/", "kombu/", "billiard/")),
]


def layer_of(frames: list[str]) -> str:
    if not frames:
        return "no Python frame (a thread in C code: starting, or between calls)"
    for frame in reversed(frames):
        for layer, marks in LAYERS:
            if any(mark in frame for mark in marks):
                return layer
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=15, help="app functions to list (inclusive samples)")
    args = parser.parse_args()
    layers: Counter[str] = Counter()
    app: Counter[str] = Counter()
    total = 0
    with open(args.raw) as raw:
        for line in raw:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            frames = [f for f in stack.split(";") if not f.startswith("process ")]
            total += samples
            layers[layer_of(frames)] += samples
            for frame in set(frames):
                if re.search(r"\((bulk|messaging|contacts|wecare)/", frame):
                    app[frame] += samples
    print(f"{total} samples")
    for layer, samples in layers.most_common():
        print(f"  {100 * samples / total:5.1f} %  {layer}")
    print("app functions, inclusive (a sample counts for every app frame on its stack):")
    for frame, samples in app.most_common(args.top):
        print(f"  {100 * samples / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
