"""What a suggestion costs, estimated from its tokens at Amazon Nova Pro's on-demand price: the
Agent page's daily figures and the pipeline's benchmark (bench/ai_bench.py) both use this one
rate. docs/design/agent.md, "The Agent page".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# Amazon Nova Pro (amazon.nova-pro-v1:0), on-demand, US East (N. Virginia), in US dollars per
# 1,000 tokens. Source: the Amazon Bedrock pricing page, https://aws.amazon.com/bedrock/pricing/
# (Amazon Nova section), as read on 2026-11-30. A price change is one edit here.
PRICE_SOURCE = "Amazon Bedrock pricing page (aws.amazon.com/bedrock/pricing), Amazon Nova Pro on-demand, 2026-11-30"
INPUT_PER_1K = Decimal("0.0008")
OUTPUT_PER_1K = Decimal("0.0032")


def estimated_cost(input_tokens: int | float, output_tokens: int | float) -> Decimal:
    """US dollars for this many tokens at the on-demand rate (an estimate: the agent's own
    orchestration calls are billed at the same rate and counted in the usage the trace reports)."""
    return (Decimal(int(input_tokens or 0)) * INPUT_PER_1K + Decimal(int(output_tokens or 0)) * OUTPUT_PER_1K) / 1000


def cost_of_usage(usage: dict[str, Any] | None) -> Decimal:
    """``estimated_cost`` of an interaction's ``usage`` ({inputTokens, outputTokens, ...})."""
    usage = usage or {}
    return estimated_cost(usage.get("inputTokens") or 0, usage.get("outputTokens") or 0)
