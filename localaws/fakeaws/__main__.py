"""`python -m localaws.fakeaws --host 127.0.0.1 --port 5001`: the fake as its own process (the dev
stack runs it this way). Does not import Django: it only needs boto3/botocore."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from localaws.fakeaws.server import FakeAwsServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.fakeaws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--s3-endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or None,
        help="moto, where media is read and written (default: $AWS_ENDPOINT_URL; empty: S3 untouched)",
    )
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
    )

    server = FakeAwsServer(args.host, args.port, s3_endpoint_url=args.s3_endpoint_url)

    def stop(*_: object) -> None:
        # shutdown() waits for serve_forever to return, so it must run off the serving thread.
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
