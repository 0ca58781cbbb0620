"""`python -m localaws.fakeaws` as the dev stack runs it: its own process, stopped by SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

from wecare.tests.manage_subprocess import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_as_a_process_and_stops_on_sigterm():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "localaws.fakeaws", "--host", "127.0.0.1", "--port", str(port), "--s3-endpoint-url", ""],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/__fake/health", timeout=1) as answer:
                    assert json.loads(answer.read())["ok"] is True
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the fake did not come up"
                time.sleep(0.1)
        session = boto3.session.Session()
        sms = session.client("pinpoint-sms-voice-v2", endpoint_url=url, region_name="us-east-1")
        assert sms.send_text_message(DestinationPhoneNumber="+14155550123", MessageBody="Hi")["MessageId"]
        # Bedrock too, its knowledge base read from the repository's documents (as `make run` has it).
        agent = session.client("bedrock-agent-runtime", endpoint_url=url, region_name="us-east-1")
        stream = agent.invoke_agent(
            agentId="HQNT0JXN8G", agentAliasId="TSTALIASID", sessionId="s-1", inputText="Are you open on Sunday?"
        )["completion"]
        assert "Sunday" in "".join(event["chunk"]["bytes"].decode() for event in stream if "chunk" in event)
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, output.decode()
    assert f"listening on {url}" in output.decode()
