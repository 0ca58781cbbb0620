"""The three Bedrock calls the pipeline makes, each returning a typed answer:

- ``retrieve``: bedrock-agent-runtime Retrieve on the knowledge base (passages with scores);
- ``invoke_agent``: bedrock-agent-runtime InvokeAgent, whose answer is an event stream (chunks
  with attribution, trace, returnControl, or an exception frame midway), read to the end here;
- ``converse``: bedrock-runtime Converse on the foundation model.

Errors worth another try (throttling, timeouts, a stream broken midway, 5xx) raise
``BedrockUnavailable``; the rest (validation, access denied, a missing agent) raise
``BedrockRefused``. docs/design/agent.md, "Bedrock".
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EventStreamError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from django.conf import settings

from wecare import alerts
from wecare.aws import endpoint_for, shared_client


class BedrockError(Exception):
    """Base of the errors below; ``code`` is the AWS error code, or ``Timeout``/``StreamBroken``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        # What the failed attempt had used before it failed (the pipeline fills these in), so its
        # tokens are counted in the cost too (docs/design/agent.md, "Agent page").
        self.usage: Usage | None = None
        self.calls: dict[str, int] | None = None


class BedrockUnavailable(BedrockError):
    """Worth trying again later: throttling, a timeout, a 5xx, a stream that failed midway."""


class BedrockRefused(BedrockError):
    """Trying again will not help: a validation error, access denied, no such agent or model."""


@dataclass(frozen=True)
class Passage:
    title: str
    uri: str  # the document's location (s3://… or a web address)
    score: float
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class AgentAnswer:
    text: str  # the chunks joined
    citations: list[Passage] = field(default_factory=list)  # from the chunks' attribution
    usage: Usage = Usage()  # summed from the trace's model invocation outputs
    # An action the agent asked the caller to run (returnControl's invocation inputs). Never
    # executed: the pipeline flags the draft instead.
    return_control: dict[str, Any] | None = None


@dataclass(frozen=True)
class ConverseAnswer:
    text: str
    usage: Usage
    stop_reason: str


# One quick retry inside botocore absorbs a momentary throttle; anything longer is the pipeline's
# to retry, with backoff, in Celery (its attempts would multiply botocore's). Reads wait long enough
# for an agent's orchestration (several model calls) before the first event of its stream.
_CONFIG = Config(connect_timeout=3, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 2})

# Worth another try later. Compared without case: inside InvokeAgent's stream the same errors are
# spelled throttlingException, internalServerException... (the event names).
_UNAVAILABLE = frozenset(
    code.lower()
    for code in (
        "ThrottlingException",
        "ServiceQuotaExceededException",
        "InternalServerException",
        "ServiceUnavailableException",
        "BadGatewayException",
        "DependencyFailedException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "ModelErrorException",
    )
)
# Inside a stream that had begun, anything but these is taken for a passing failure.
_REFUSED_MIDWAY = frozenset({"validationexception", "accessdeniedexception", "resourcenotfoundexception"})
# No answer in time: connecting, waiting for the answer, or waiting for the stream's next event
# (an event stream is read straight from urllib3, so its errors arrive unwrapped).
_TIMEOUTS = (ConnectTimeoutError, ReadTimeoutError, urllib3.exceptions.ReadTimeoutError)
# The connection broke before the answer was complete.
_BROKEN = (ConnectionClosedError, ResponseStreamingError, urllib3.exceptions.ProtocolError)

_T = TypeVar("_T")


def _client(service: str) -> Any:
    return shared_client(
        service, region=settings.AWS_REGION, endpoint_url=endpoint_for(service), config=_CONFIG, kind="bedrock"
    )


def _from_client_error(exc: ClientError) -> BedrockError:
    error = exc.response.get("Error", {})
    code, message = error.get("Code") or "Unknown", error.get("Message") or str(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if code.lower() in _UNAVAILABLE or status == 429 or status >= 500:
        return BedrockUnavailable(code, message)
    if isinstance(exc, EventStreamError) and code.lower() not in _REFUSED_MIDWAY:
        return BedrockUnavailable(code, message)
    # Refused credentials or permissions stop every draft until a person acts: alert them.
    alerts.provider_refused("bedrock", code, message)
    return BedrockRefused(code, message)


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """botocore's and urllib3's errors as BedrockUnavailable or BedrockRefused."""
    try:
        yield
    except ClientError as exc:  # EventStreamError (an exception frame midway) is one too
        raise _from_client_error(exc) from exc
    except _TIMEOUTS as exc:
        raise BedrockUnavailable("Timeout", str(exc)) from exc
    except _BROKEN as exc:
        raise BedrockUnavailable("StreamBroken", str(exc)) from exc
    except ParamValidationError as exc:
        raise BedrockRefused("ParamValidation", str(exc)) from exc
    except BotoCoreError as exc:  # anything else botocore raises on the way: a transport problem
        raise BedrockUnavailable(type(exc).__name__, str(exc)) from exc


def _call(operation: Callable[[], _T]) -> _T:
    with _mapped_errors():
        return operation()


def _passage(reference: dict[str, Any], score: float | None = None) -> Passage:
    """A Retrieve result or a citation's retrieved reference as a Passage."""
    location = reference.get("location") or {}
    uri = (location.get("s3Location") or {}).get("uri") or (location.get("webLocation") or {}).get("url") or ""
    metadata = reference.get("metadata") or {}
    title = metadata.get("title")
    if not isinstance(title, str) or not title:
        title = uri.rstrip("/").rpartition("/")[2] or "Untitled"
    if score is None:
        found = metadata.get("score")
        score = float(found) if isinstance(found, int | float) and not isinstance(found, bool) else 0.0
    return Passage(title=title, uri=uri, score=score, text=(reference.get("content") or {}).get("text") or "")


def retrieve(text: str, *, knowledge_base_id: str, results: int = 5) -> list[Passage]:
    answer = _call(
        lambda: _client("bedrock-agent-runtime").retrieve(
            knowledgeBaseId=knowledge_base_id,
            retrievalQuery={"text": text},
            retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": results}},
        )
    )
    return [_passage(result, float(result.get("score") or 0.0)) for result in answer["retrievalResults"]]


def invoke_agent(
    text: str,
    *,
    agent_id: str,
    agent_alias_id: str,
    session_id: str,
    session_attributes: dict[str, str] | None = None,
    prompt_session_attributes: dict[str, str] | None = None,
) -> AgentAnswer:
    session_state: dict[str, Any] = {}
    if session_attributes:
        session_state["sessionAttributes"] = session_attributes
    if prompt_session_attributes:
        session_state["promptSessionAttributes"] = prompt_session_attributes
    request: dict[str, Any] = {
        "agentId": agent_id,
        "agentAliasId": agent_alias_id,
        "sessionId": session_id,
        "inputText": text,
        "enableTrace": True,  # the trace carries the token usage
    }
    if session_state:
        request["sessionState"] = session_state
    with _mapped_errors():
        # The stream is read to its end inside: an exception frame or a broken connection midway
        # raises while iterating, after the call itself returned.
        return _read_stream(_client("bedrock-agent-runtime").invoke_agent(**request)["completion"])


def _usage_of(trace: dict[str, Any]) -> Usage:
    """Token usage of every model invocation a trace event reports (orchestration, pre- and
    post-processing, routing: whichever step it is)."""
    total = Usage()
    for step in trace.values():
        output = step.get("modelInvocationOutput") if isinstance(step, dict) else None
        usage = ((output or {}).get("metadata") or {}).get("usage") or {}
        total += Usage(int(usage.get("inputTokens") or 0), int(usage.get("outputTokens") or 0))
    return total


def _read_stream(stream: Any) -> AgentAnswer:
    # The answer's bytes, joined and decoded once at the end: a chunk may end inside a multi-byte
    # UTF-8 character, which decoding each chunk on its own would turn into two U+FFFD.
    parts: list[bytes] = []
    citations: dict[tuple[str, str], Passage] = {}
    usage = Usage()
    return_control: dict[str, Any] | None = None
    for event in stream:
        if "chunk" in event:
            chunk = event["chunk"]
            raw = chunk.get("bytes") or b""
            parts.append(raw if isinstance(raw, bytes) else base64.b64decode(raw))
            for citation in (chunk.get("attribution") or {}).get("citations") or []:
                for reference in citation.get("retrievedReferences") or []:
                    passage = _passage(reference)
                    citations.setdefault((passage.uri, passage.text), passage)
        elif "trace" in event:
            usage += _usage_of(event["trace"].get("trace") or {})
        elif "returnControl" in event:
            return_control = event["returnControl"]
    return AgentAnswer(
        text=b"".join(parts).decode("utf-8", "replace"),
        citations=list(citations.values()),
        usage=usage,
        return_control=return_control,
    )


def converse(
    *, model_id: str, system: str, messages: list[dict[str, Any]], max_tokens: int = 512, temperature: float = 0.2
) -> ConverseAnswer:
    """``messages`` as Converse takes them: [{"role": "user", "content": [{"text": "..."}]}]."""
    answer = _call(
        lambda: _client("bedrock-runtime").converse(
            modelId=model_id,
            system=[{"text": system}] if system else [],
            messages=messages,
            inferenceConfig={"maxTokens": max_tokens, "temperature": temperature},
        )
    )
    content = (answer.get("output", {}).get("message") or {}).get("content") or []
    usage = answer.get("usage") or {}
    return ConverseAnswer(
        text="".join(block.get("text", "") for block in content),
        usage=Usage(int(usage.get("inputTokens") or 0), int(usage.get("outputTokens") or 0)),
        stop_reason=answer.get("stopReason") or "",
    )
