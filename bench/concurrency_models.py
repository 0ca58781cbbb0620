#!/usr/bin/env python3
"""Which way to keep many provider calls in flight in one worker process: threads (boto3), gevent
(boto3 under monkey-patching) or asyncio (aiobotocore). Each model sends the same N
SendWhatsAppMessage calls, at most --in-flight at once, to the local fake with 250 ms ± 50 ms of
latency, in a process of its own; the script prints each model's calls/s and CPU per call (the
process's user + system time, which is what a worker pays).

    .venv/bin/python bench/concurrency_models.py                     # threads only
    .venv/bin/python bench/concurrency_models.py --gevent-path DIR --asyncio-path DIR

gevent and aiobotocore are not dependencies of the platform; to measure them, install each into a
directory of its own (`pip install --target DIR gevent`, and another for aiobotocore, which pins
its own botocore) and pass the directories. The reasoning and the figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One model's run, executed as `python -c` in its own process so that gevent's monkey-patching
# and aiobotocore's botocore stay out of the other runs. Prints one JSON line.
RUN = r"""
import json, os, resource, sys, time
model, url, n, in_flight, sender = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if model == "gevent":
    from gevent import monkey
    monkey.patch_all()
message = json.dumps({"messaging_product": "whatsapp", "to": "919800000000", "type": "text",
                      "text": {"body": "Hello"}}).encode()
params = dict(originationPhoneNumberId=sender, message=message, metaApiVersion="v20.0")
kwargs = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

if model in ("threads", "gevent"):
    import boto3, botocore.config
    config = botocore.config.Config(max_pool_connections=in_flight, retries={"total_max_attempts": 1})
    client = boto3.session.Session().client("socialmessaging", config=config, **kwargs)
    client.send_whatsapp_message(**params)  # warm: the client's model and connection
    if model == "threads":
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(in_flight)
        run = lambda: list(pool.map(lambda _: client.send_whatsapp_message(**params), range(n)))
    else:
        from gevent.pool import Pool
        pool = Pool(in_flight)
        run = lambda: pool.map(lambda _: client.send_whatsapp_message(**params), range(n))
    started, cpu0 = time.perf_counter(), cpu()
    run()
else:
    import asyncio
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    async def main():
        config = AioConfig(max_pool_connections=in_flight, retries={"total_max_attempts": 1})
        async with get_session().create_client("socialmessaging", config=config, **kwargs) as client:
            await client.send_whatsapp_message(**params)
            limit = asyncio.Semaphore(in_flight)

            async def one():
                async with limit:
                    await client.send_whatsapp_message(**params)

            began, cpu_began = time.perf_counter(), cpu()
            await asyncio.gather(*(one() for _ in range(n)))
            return began, cpu_began

    started, cpu0 = asyncio.run(main())
seconds, spent = time.perf_counter() - started, cpu() - cpu0
print(json.dumps({"model": model, "calls": n, "seconds": seconds, "cpu_ms_per_call": 1000 * spent / n}))
"""


def measure(model: str, url: str, args: argparse.Namespace, sender: str, path: str | None) -> dict:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    answer = subprocess.run(
        [sys.executable, "-c", RUN, model, url, str(args.calls), str(args.in_flight), sender],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode:
        raise SystemExit(f"{model} failed:\n{answer.stderr[-2000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--jitter-ms", type=float, default=50)
    parser.add_argument("--gevent-path", help="a directory holding gevent (pip install --target)")
    parser.add_argument("--asyncio-path", help="a directory holding aiobotocore (pip install --target)")
    args = parser.parse_args()

    from localaws.fakeaws import FakeAwsServer
    from localaws.fakeaws.account import DEFAULT_PHONE_NUMBER_IDS

    fake = FakeAwsServer().start()
    fake.set_latency(args.latency_ms, args.jitter_ms, operation="SendWhatsAppMessage")
    ceiling = args.in_flight / (args.latency_ms / 1000)
    print(
        f"{args.calls} SendWhatsAppMessage calls, {args.in_flight} in flight, provider "
        f"{args.latency_ms:.0f} ms ± {args.jitter_ms:.0f} ms (ceiling {ceiling:.0f} calls/s)"
    )
    models = [("threads", None)]
    models += [("gevent", args.gevent_path)] if args.gevent_path else []
    models += [("asyncio", args.asyncio_path)] if args.asyncio_path else []
    try:
        for model, path in models:
            result = measure(model, fake.url, args, DEFAULT_PHONE_NUMBER_IDS[0], path)
            print(
                f"  {model:8s} {result['calls'] / result['seconds']:7.1f} calls/s"
                f"  {result['cpu_ms_per_call']:.2f} ms CPU per call"
            )
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
