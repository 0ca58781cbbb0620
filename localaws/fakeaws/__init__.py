"""A local fake of the AWS APIs moto has no backend for: socialmessaging (WhatsApp),
pinpoint-sms-voice-v2 (SMS), bedrock-agent-runtime and bedrock-runtime (Bedrock's Retrieve,
InvokeAgent and Converse, answered from a local knowledge base: bedrock.py).

It validates every request against botocore's own service model (required members, types,
lengths, ranges, patterns, enums), answers the operations the app uses, records every call, and
injects faults on demand. See server.py (FakeAwsServer), controls.py (the `/__fake/` endpoints)
and app.py (the order of the steps). Run it alone with `python -m localaws.fakeaws --port 5001`.

Not checked: SigV4 signatures (any credentials are accepted) and IAM permissions. Patterns the
models write with Java-only regex syntax that Python cannot express are skipped (patterns.py).
"""

from localaws.fakeaws.server import FakeAwsServer

__all__ = ["FakeAwsServer"]
