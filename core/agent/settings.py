"""Agent settings that the UI needs before (and without) loading the Anthropic SDK.

Importing the SDK costs about a second, so the app imports `core.agent.session` only when the first
question is asked; the key check, the model choice and the "how to set a key" text live here.
"""

from __future__ import annotations

import os

DEFAULT_MODEL = "claude-sonnet-5-5"


class MissingApiKey(Exception):
    """No ANTHROPIC_API_KEY: the chat explains how to set one; everything else keeps working."""


HOW_TO_SET_KEY = (
    "The agent needs an Anthropic API key. Set ANTHROPIC_API_KEY in the environment you start "
    "devops-tui from (for example `export ANTHROPIC_API_KEY=sk-ant-…`), then restart. "
    "ANTHROPIC_BASE_URL points it at another endpoint; DEVOPS_TUI_MODEL picks the model."
)


def resolve_model(configured: str | None = None) -> str:
    return os.environ.get("DEVOPS_TUI_MODEL") or configured or DEFAULT_MODEL
