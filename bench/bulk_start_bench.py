#!/usr/bin/env python3
"""Bulk start benchmark: how long starting an N-recipient job keeps the HTTP request, and how long
the background preparation (bulk.prepare_job) then takes, on the local stack.

    .venv/bin/python bench/bulk_start_bench.py                  # 10,000 recipients (contact ids)
    .venv/bin/python bench/bulk_start_bench.py --recipients 2000

The request part is bulk.actions.start_job: resolve the audience and evaluate every row again
(the preview's work), check confirmation and tier, write the job and its plan. The preparation
is run here in this process (bulk.preparation.prepare) with the chunks' queueing left out, so
only the writes of recipients and chunks are timed. DynamoDB requests are counted by operation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_bench import start_recorded_aws  # noqa: E402 - importable once sys.path holds bench/
from outbound_bench import make_contacts  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bulk-start-bench-"))
    server, fake, recorder = start_recorded_aws(tmp)
    try:
        from django.conf import settings
        from django.contrib.auth import get_user_model

        from bulk import actions, preparation, sending
        from bulk.audience import AudienceSpec

        settings.CELERY_TASK_ALWAYS_EAGER = False
        queued: list = []
        preparation.prepare_job.apply_async = lambda args: queued.append(args)  # timed apart below
        sending.send_chunk.apply_async = lambda args, queue: None  # sending is bulk_bench.py's subject
        contacts = make_contacts(args.recipients)
        recorder.take()
        user = get_user_model()(username="bench-operator")
        audience = AudienceSpec(contact_ids=contacts)
        began = time.perf_counter()
        job = actions.start_job(
            audience,
            {"text": "Bench start"},
            channel="whatsapp",
            sender=settings.WHATSAPP_PHONE_NUMBER_IDS[0],
            user=user,
            confirm=True,
            previewed_count=args.recipients,
        )
        request_seconds = time.perf_counter() - began
        request_counts, _ = recorder.take()
        began = time.perf_counter()
        result = preparation.prepare(job.jobId)
        prepare_seconds = time.perf_counter() - began
        prepare_counts, _ = recorder.take()
        print(f"bulk start: {args.recipients} recipients (contact ids), local stack")
        print(
            f"  in the request (start_job: resolve + evaluate + job + plan): {request_seconds:.1f} s;"
            f" DynamoDB {dict(request_counts)}"
        )
        print(
            f"  in the background (prepare: {result['recipients']} recipients, "
            f"{result['chunks']} chunks): {prepare_seconds:.1f} s;"
            f" DynamoDB {dict(prepare_counts)}"
        )
        return 0
    finally:
        fake.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
