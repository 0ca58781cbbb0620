"""A worker in its own process, for test_ratelimit: reserves tokens in one bucket and prints
each grant as a JSON line, so the test can check what several processes got from one table.

    python -m messaging.tests.reserve_worker BUCKET LIMIT PLAN_JSON

PLAN_JSON is a list of [kind, n]: kind "exact" (reserve) or "upto" (reserve_up_to, repeated
until all n are granted). The worker prints "ready", waits for a line on stdin (so all workers
start together), then works, sleeping until each grant's window like a real sender would.
Settings and the moto endpoint come from the environment it inherits from the test process.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.tests.settings")
django.setup()

from messaging.outbound.ratelimit import reserve, reserve_up_to  # noqa: E402


def main() -> None:
    bucket, limit, plan = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for kind, n in plan:
        left = n
        while left:
            grant = reserve(bucket, limit, left) if kind == "exact" else reserve_up_to(bucket, limit, left)
            print(
                json.dumps({"window": grant.window, "granted": grant.granted, "first_position": grant.first_position}),
                flush=True,
            )
            left -= grant.granted
            grant.sleep()


if __name__ == "__main__":
    main()
