"""One draft from Bedrock: Retrieve on the knowledge base, then the agent (InvokeAgent, the
default generator) or the foundation model alone (Converse on the passages); alongside them,
Converse for intent, entities and a summary. When the customer's window is closed there is no free text to
draft: the analysis chooses an approved template instead (ai/pipeline/template_proposal.py).
Bedrock's errors pass through (the task retries BedrockUnavailable). docs/design/agent.md.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from ai.bedrock import calls
from ai.bedrock.calls import Passage, Usage
from ai.models import Lead, Persona
from ai.pipeline import analysis as analysis_module
from ai.pipeline import prompts, template_proposal
from ai.pipeline.analysis import Analysis

PASSAGES = 5  # retrieved; the converse generator drafts from the best three
DRAFT_PASSAGES = 3
EXCERPT_CHARS = 300


@dataclass
class Draft:
    kind: str  # "text" | "template"
    text: str  # the draft, or the template as the customer would read it ("" when none fits)
    analysis: Analysis
    template: dict[str, Any] | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)  # {title, uri, score, excerpt}, best first
    source_texts: list[str] = field(default_factory=list)  # every passage read, for the flags
    usage: Usage = field(default_factory=Usage)
    calls: dict[str, int] = field(default_factory=dict)
    return_control: dict[str, Any] | None = None
    generator: str = "agent"


def session_id(conversation: str) -> str:
    """The agent's session for a conversation: a hash of its key, so no phone number reaches
    Bedrock and the agent keeps the conversation's context across messages."""
    return "conv-" + hashlib.sha256(conversation.encode()).hexdigest()[:40]


def _sources(citations: list[Passage], passages: list[Passage]) -> list[dict[str, Any]]:
    """The agent's citations (scored from the retrieval of the same document when they have no
    score of their own), else the retrieved passages; one per document, best first."""
    retrieved = {p.uri: p.score for p in passages}
    chosen = citations or passages[:DRAFT_PASSAGES]
    seen: dict[str, dict[str, Any]] = {}
    for p in chosen:
        score = p.score or retrieved.get(p.uri, 0.0)
        if p.uri not in seen or score > seen[p.uri]["score"]:
            seen[p.uri] = {"title": p.title, "uri": p.uri, "score": round(score, 3), "excerpt": p.text[:EXCERPT_CHARS]}
    return sorted(seen.values(), key=lambda s: -s["score"])


class Counter:
    """Calls and tokens of one draft; added to from two threads (the analysis runs alongside)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.usage = Usage()
        self._lock = threading.Lock()

    def add(self, call: str, usage: Usage | None = None) -> None:
        with self._lock:
            self.calls[call] = self.calls.get(call, 0) + 1
            if usage is not None:
                self.usage = self.usage + usage


def _analyse(
    customer: str, name: str | None, counter: Counter, templates: list[dict[str, str]] | None = None
) -> Analysis:
    answer = calls.converse(
        model_id=settings.BEDROCK_FOUNDATION_MODEL,
        system=prompts.analysis_system(templates),
        messages=prompts.user_message(prompts.analysis_user(customer, name)),
        max_tokens=400,
        temperature=0.0,
    )
    counter.add("Converse", answer.usage)
    return analysis_module.parse(answer.text)


def draft(
    customer: str,
    *,
    conversation: str,
    window_open: bool,
    persona: Persona | None,
    lead: Lead | None,
    customer_name: str | None,
) -> Draft:
    """``customer`` is the masked text. Raises calls.BedrockUnavailable / BedrockRefused, carrying
    the tokens and calls the attempt used before it failed."""
    counter = Counter()
    try:
        return _draft(customer, conversation, window_open, persona, lead, customer_name, counter)
    except calls.BedrockError as exc:
        exc.usage, exc.calls = counter.usage, dict(counter.calls)
        raise


def _draft(
    customer: str,
    conversation: str,
    window_open: bool,
    persona: Persona | None,
    lead: Lead | None,
    customer_name: str | None,
    counter: Counter,
) -> Draft:
    if not window_open:
        allowed = template_proposal.candidates()
        analysis = _analyse(customer, customer_name, counter, template_proposal.listing(allowed))
        proposal = template_proposal.propose(analysis.template, allowed, customer_name=customer_name, query=customer)
        return Draft(
            kind="template",
            text=proposal.text,
            analysis=analysis,
            template=proposal.template,
            usage=counter.usage,
            calls=counter.calls,
            generator=settings.AI_GENERATOR,
        )
    # The analysis reads only the customer's text, so it runs alongside the draft rather than after
    # it: a draft waits for the longer of the two, not for both (docs/design/agent.md, "The pipeline").
    with ThreadPoolExecutor(max_workers=1) as alongside:
        analysed = alongside.submit(_analyse, customer, customer_name, counter)
        text, sources, source_texts, return_control = _text_draft(customer, conversation, persona, lead, counter)
        analysis = analysed.result()
    return Draft(
        kind="text",
        text=text.strip(),
        analysis=analysis,
        sources=sources,
        source_texts=source_texts,
        usage=counter.usage,
        calls=counter.calls,
        return_control=return_control,
        generator=settings.AI_GENERATOR,
    )


def _text_draft(
    customer: str, conversation: str, persona: Persona | None, lead: Lead | None, counter: Counter
) -> tuple[str, list[dict[str, Any]], list[str], dict[str, Any] | None]:
    """(draft, sources, every passage's text, returnControl) from Retrieve and the generator."""
    passages = calls.retrieve(customer, knowledge_base_id=settings.BEDROCK_KB_ID, results=PASSAGES)
    counter.add("Retrieve")
    citations: list[Passage] = []
    return_control = None
    if settings.AI_GENERATOR == "converse":
        answer = calls.converse(
            model_id=settings.BEDROCK_FOUNDATION_MODEL,
            system=prompts.draft_system(persona),
            messages=prompts.user_message(prompts.draft_user(customer, passages[:DRAFT_PASSAGES])),
        )
        counter.add("Converse", answer.usage)
        text = answer.text
    else:
        agent = calls.invoke_agent(
            prompts.agent_input(customer),
            agent_id=settings.BEDROCK_AGENT_ID,
            agent_alias_id=settings.BEDROCK_AGENT_ALIAS_ID,
            session_id=session_id(conversation),
            prompt_session_attributes=prompts.session_attributes(persona, lead),
        )
        counter.add("InvokeAgent", agent.usage)
        text, citations, return_control = agent.text, agent.citations, agent.return_control
    return text, _sources(citations, passages), [p.text for p in [*passages, *citations]], return_control
