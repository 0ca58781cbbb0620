"""A sender in its own process, for test_media_ids: sends one image message per recipient, each on
its own thread, through ``senders.deliver`` (LIVE, to the local fake), and prints the media id each
send used as a JSON line, so the test can check that several processes uploaded the file once.

    python -m messaging.tests.media_worker S3_KEY SENDER RECIPIENTS_JSON

The worker prints "ready", waits for a line on stdin (so all workers start together), then sends.
Settings and the moto and fake endpoints come from the environment it inherits from the test.
"""

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.tests.settings")
django.setup()

from django.conf import settings  # noqa: E402

from messaging.outbound.senders import Outbound, deliver  # noqa: E402


def send(key: str, sender: str, to: str) -> str:
    out = Outbound(
        message_id=f"worker-{to}",
        channel="whatsapp",
        sender=sender,
        to=to,
        media={"s3Key": key, "contentType": "image/jpeg"},
    )
    deliver(out)
    assert out.media_id is not None
    return out.media_id


def main() -> None:
    key, sender, recipients = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    settings.SEND_MODE = "LIVE"
    print("ready", flush=True)
    sys.stdin.readline()
    with ThreadPoolExecutor(max_workers=len(recipients)) as pool:
        for media_id in pool.map(lambda to: send(key, sender, to), recipients):
            print(json.dumps({"mediaId": media_id}), flush=True)


if __name__ == "__main__":
    main()
