"""The three Bedrock calls the pipeline makes, each returning a typed answer:

- ``retrieve``: bedrock-agent-runtime Retrieve on the knowledge base (passages with scores);
- ``invoke_agent``: bedrock-agent-runtime InvokeAgent, whose answer is an event stream (chunks
  with attribution, trace, returnControl, or an exception frame midway), read to the end here;
- ``converse``: bedrock-runtime Converse on the foundation model.

Errors worth another try (throttling, timeouts, a stream broken midway, 5xx) raise
``BedrockUnavailable``; the rest (validation, access denied, a missing agent) raise
``BedrockRefused``. docs/design/agent.md, "Bedrock".

PLACEHOLDER written by the lead: the signatures and types are the contract; the bodies are
built by the Bedrock part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class BedrockError(Exception):
    """Base of the errors below; ``code`` is the AWS error code, or ``Timeout``/``StreamBroken``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


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


def retrieve(text: str, *, knowledge_base_id: str, results: int = 5) -> list[Passage]:
    raise NotImplementedError("built by the Bedrock part")


def invoke_agent(
    text: str,
    *,
    agent_id: str,
    agent_alias_id: str,
    session_id: str,
    session_attributes: dict[str, str] | None = None,
    prompt_session_attributes: dict[str, str] | None = None,
) -> AgentAnswer:
    raise NotImplementedError("built by the Bedrock part")


def converse(
    *, model_id: str, system: str, messages: list[dict[str, Any]], max_tokens: int = 512, temperature: float = 0.2
) -> ConverseAnswer:
    """``messages`` as Converse takes them: [{"role": "user", "content": [{"text": "..."}]}]."""
    raise NotImplementedError("built by the Bedrock part")
