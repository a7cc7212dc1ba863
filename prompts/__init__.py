"""The agent's prompts, shipped as package data and read with `load(name)`."""

from __future__ import annotations

from importlib import resources


def load(name: str) -> str:
    """The text of `prompts/<name>` (for example 'system.md')."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
