"""Estimated cost of a turn from its token usage (USD per million tokens; list prices, may drift)."""

from __future__ import annotations

from core.agent.events import Usage

#: model-name prefix -> (input, output, cache write, cache read) USD per million tokens
PRICES: dict[str, tuple[float, float, float, float]] = {
    "claude-opus": (15.0, 75.0, 18.75, 1.50),
    "claude-sonnet": (3.0, 15.0, 3.75, 0.30),
    "claude-haiku": (1.0, 5.0, 1.25, 0.10),
}
DEFAULT_PRICE = PRICES["claude-sonnet"]


def estimate_cost(model: str, usage: Usage) -> float:
    price = next((p for prefix, p in PRICES.items() if model.startswith(prefix)), DEFAULT_PRICE)
    per_token = [p / 1_000_000 for p in price]
    return (
        usage.input_tokens * per_token[0]
        + usage.output_tokens * per_token[1]
        + usage.cache_creation_input_tokens * per_token[2]
        + usage.cache_read_input_tokens * per_token[3]
    )
