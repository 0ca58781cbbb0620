#!/usr/bin/env python3
"""`make run` (``python -m localaws.devstack``): the whole platform on this machine, on its
embedded defaults.

Starts a moto server (the local AWS) and the local fake of the AWS APIs moto lacks (WhatsApp and
SMS: localaws/fakeaws) on loopback, creates every AWS resource in moto, loads the data saved at the
last stop, migrates SQLite, creates the demo users and contacts, then runs the Celery workers
(one per worker service, as deployed; beat with the first) and the web server. Ctrl-C saves the
data and stops every child.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

# Read before anything from wecare is imported: importing the package loads the Celery app
# (wecare/__init__.py), which defaults DJANGO_SETTINGS_MODULE to the production settings, and the
# stack must default to localaws.settings unless the person running it chose otherwise.
CHOSEN_SETTINGS_MODULE = os.environ.get("DJANGO_SETTINGS_MODULE")

from wecare.queues import WORKER_SERVICES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"
SNAPSHOT = STATE / "snapshot.json"
# The ports the running stack chose (PORT=8001 MOTO_PORT=5100 … make run), so `make manage` in
# another terminal reaches that stack without the same variables, never one on the default ports.
PORTS = STATE / "ports.json"
PORT_VARIABLES = ("PORT", "MOTO_PORT", "FAKE_AWS_PORT")
BIN = Path(sys.executable).parent
AUTOSAVE_SECONDS = 60


def persistent_secret(name: str, length: int) -> str:
    """A random value generated on first start and kept in .local/ (never committed)."""
    path = STATE / name
    if not path.exists():
        STATE.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


def environment() -> dict[str, str]:
    env = dict(os.environ)
    if CHOSEN_SETTINGS_MODULE is None:
        env.pop("DJANGO_SETTINGS_MODULE", None)  # set by the Celery app's import, not by a person
    moto_port = env.get("MOTO_PORT", "5000")
    fake_aws_port = env.get("FAKE_AWS_PORT", "5001")
    defaults = {
        "ENVIRONMENT": "development",
        # The real settings plus the localaws app (its dev_snapshot command); see localaws/settings.py.
        "DJANGO_SETTINGS_MODULE": "localaws.settings",
        "SEND_MODE": "DRY_RUN",
        "DJANGO_SECRET_KEY": persistent_secret("secret_key", 50),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        # socialmessaging, pinpoint-sms-voice-v2 and Bedrock (no moto backend) go to localaws.fakeaws.
        "AWS_FAKE_ENDPOINT_URL": f"http://127.0.0.1:{fake_aws_port}",
        # Dummy credentials for the emulator only; real AWS uses the role's credentials.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        # bootstrap_aws creates it in the fake, with its SNS event destination, as in a deployment.
        "SMS_CONFIGURATION_SET": "base-wecare-digital-sms",
        # Likewise the SES configuration set every email names, with its SNS event destination.
        "SES_CONFIGURATION_SET": "base-wecare-digital-email",
        # The two-way number simulate_inbound --sms writes to by default, so a reply goes from it
        # (SMS_NUMBERS is on the SMS allowlist) and inbound SMS is not logged as to an unknown number.
        "SMS_NUMBERS": "+12125550101",
        "DATABASE_URL": f"sqlite:///{STATE / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


# The dev stack's Celery workers, split as production splits them: one per worker service of
# wecare/queues.py's WORKER_SERVICES (the infrastructure template's ECS services come from the same
# definitions; docs/deployment.md, "Worker services"). Bulk has its own, so a campaign never
# starves inbound work; single sends and suggested replies wait on a provider, so they run threads;
# the worker named "worker" (inbound and default work) also runs beat. bench/bulk_bench.py (its
# outbound phase) and bench/ai_bench.py start their workers from worker_command too, so they
# measure the stack exactly as `make run` runs it.
WORKERS: dict[str, tuple[str, tuple[str, ...]]] = {
    name: (service.queue_list, ("--pool", service.pool, "-c", str(service.concurrency)))
    for name, service in WORKER_SERVICES.items()
}


def worker_command(state: Path, name: str = "worker") -> list[str]:
    """The command line of the dev stack's worker ``name`` (a key of WORKERS); the one named
    "worker" also runs beat (its schedule file in ``state``)."""
    queues, pool = WORKERS[name]
    beat = ["-B", "-s", str(state / "celerybeat-schedule")] if name == "worker" else []
    return [
        str(BIN / "celery"),
        "-A",
        "wecare",
        "worker",
        *beat,
        "-n",
        f"{name}@%h",  # two workers on one host need names of their own
        "-Q",
        queues,
        *pool,
        "--loglevel",
        "INFO",
    ]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gave up waiting for {url}")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    env = environment()
    port = env.get("PORT", "8000")
    STATE.mkdir(exist_ok=True)
    password = env.get("DEMO_PASSWORD") or persistent_secret("demo_password", 12)
    children: list[subprocess.Popen] = []
    stopping = threading.Event()

    def start(name: str, *cmd: str, log: Path | None = None) -> subprocess.Popen:
        # Own process group, so Ctrl-C in the terminal reaches us first and we stop them in order.
        out = open(log, "ab") if log else None  # noqa: SIM115 - lives as long as the child
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=out)
        proc.name = name  # type: ignore[attr-defined]
        children.append(proc)
        return proc

    endpoint = env["AWS_ENDPOINT_URL"]
    moto_port = endpoint.rsplit(":", 1)[-1]
    fake_port = env["AWS_FAKE_ENDPOINT_URL"].rsplit(":", 1)[-1]
    PORTS.write_text(json.dumps({"PORT": port, "MOTO_PORT": moto_port, "FAKE_AWS_PORT": fake_port}))
    moto = start(
        "moto",
        str(BIN / "python"),
        "-m",
        "localaws.emulator",
        "-H",
        "127.0.0.1",
        "-p",
        moto_port,
        log=STATE / "moto.log",
    )
    fake_endpoint = env["AWS_FAKE_ENDPOINT_URL"]
    try:
        start(
            "fakeaws",
            str(BIN / "python"),
            "-m",
            "localaws.fakeaws",
            "--host",
            "127.0.0.1",
            "--port",
            fake_port,
            log=STATE / "fakeaws.log",
        )
        wait_for(f"{endpoint}/moto-api/")
        wait_for(f"{fake_endpoint}/__fake/health")
        manage(env, "bootstrap_aws")
        manage(env, "dev_snapshot", "load", str(SNAPSHOT))
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "--password", password)
        manage(env, "sync_templates")  # from the local fake, so the template picker is filled at once
        manage(env, "seed_agent_demo")  # the agent's demo persona and a few demo leads
        for name in WORKERS:
            start(name, *worker_command(STATE, name))
        start("web", str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{port}")
        wait_for(f"http://127.0.0.1:{port}/healthz", 60)
        # moto's SNS then delivers every event published to the topic to our webhook, signed, as AWS does.
        manage(env, "simulate_inbound", "--subscribe", f"http://127.0.0.1:{port}/webhooks/sns/")
        manage(env, "seed_inbox")  # a few customers write in on each channel while the inbox is empty
    except BaseException:
        for proc in children:
            proc.terminate()
        PORTS.unlink(missing_ok=True)
        raise

    print(
        f"\n  WECARE.DIGITAL is running: http://127.0.0.1:{port}/accounts/login/\n"
        f"  Log in as viewer, operator or admin with password: {password}\n"
        f"  Django admin: http://127.0.0.1:{port}/admin/ (as admin)   API docs: http://127.0.0.1:{port}/api/docs\n"
        f"  Local AWS (moto): {endpoint}   Data is saved to "
        f"{SNAPSHOT.relative_to(ROOT)} at stop; its log: .local/moto.log\n"
        f"  Fake WhatsApp/SMS/Bedrock APIs: {fake_endpoint}   Calls it received: "
        f"{fake_endpoint}/__fake/calls; its log: .local/fakeaws.log\n"
        f'  A customer writes on WhatsApp: make manage CMD="simulate_inbound --from +919812345670 --text Hi"\n'
        f'  ... by SMS: make manage CMD="simulate_inbound --sms Hi --from +14155550199"   '
        f'by email: make manage CMD="simulate_inbound --email --from chloe.martin@example.org"\n'
        f"  Ctrl-C stops everything.\n",
        flush=True,
    )

    def autosave() -> None:
        while not stopping.wait(AUTOSAVE_SECONDS):
            subprocess.run(
                [str(BIN / "python"), "manage.py", "dev_snapshot", "save", str(SNAPSHOT)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                check=False,
            )

    threading.Thread(target=autosave, daemon=True).start()

    signalled: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # Only a plain append: Event.set() here would take the lock that stopping.wait() in this
        # same (main) thread may hold when the signal lands, and Ctrl-C would hang the stack.
        signalled.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not signalled:
        dead = [p for p in children if p.poll() is not None]
        if dead:
            print(f"{dead[0].name} exited with {dead[0].returncode}; stopping the stack", file=sys.stderr)  # type: ignore[attr-defined]
            break
        time.sleep(0.5)
    stopping.set()  # ends the autosave thread

    for proc in children:
        if proc is not moto:
            proc.send_signal(signal.SIGTERM)
    for proc in children:
        if proc is not moto:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    if moto.poll() is None:
        manage(env, "dev_snapshot", "save", str(SNAPSHOT))
        moto.terminate()
        moto.wait(timeout=10)
    PORTS.unlink(missing_ok=True)
    return 0


def running_ports() -> dict[str, str]:
    """The ports the running stack wrote at its start ({} when none runs or it wrote none)."""
    try:
        saved = json.loads(PORTS.read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in saved.items() if k in PORT_VARIABLES} if isinstance(saved, dict) else {}


def manage_environment() -> dict[str, str]:
    """The running stack's environment: its ports unless this shell sets its own."""
    for key, value in running_ports().items():
        os.environ.setdefault(key, value)
    return environment()


def manage_against_running_stack(args: list[str]) -> int:
    """`make manage CMD="…"`: a manage.py command with the same environment as the running stack."""
    return subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=manage_environment(), check=False
    ).returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        sys.exit(manage_against_running_stack(sys.argv[2:]))
    sys.exit(main())
