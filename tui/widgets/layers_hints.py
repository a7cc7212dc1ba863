"""The Layers screen's hint list: each hint with its layer, Dockerfile line and fix.

Contract: `HintList.show_hints(hints, offers)` lists the hints; `offers[i]` marks the ones whose
Dockerfile edit `core.layers.propose.propose_for_hint` can build (Enter opens it in the review screen).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from core.layers.hints import format_bytes
from core.layers.model import Hint


class HintList(OptionList):
    """One option per hint: rule, title, where (layer, Dockerfile line), message and fix."""

    DEFAULT_CSS = """
    HintList { height: 1fr; border: none; }
    """

    def show_hints(self, hints: Sequence[Hint], offers: Sequence[bool]) -> None:
        """Replace the list; `offers[i]` says hint i can propose a Dockerfile edit (enter opens it)."""
        self.clear_options()
        self.add_options([Option(_hint_text(h, o), id=f"hint-{i}") for i, (h, o) in
                          enumerate(zip(hints, offers, strict=True))])
        if hints:
            self.highlighted = 0


def _hint_text(hint: Hint, offer: bool) -> Text:
    text = Text()
    text.append(f"[{hint.rule}] ", style="bold cyan")
    text.append(hint.title, style="bold")
    where = [f"layer {hint.layer}"] if hint.layer is not None else []
    if hint.dockerfile_line is not None:
        where.append(f"Dockerfile line {hint.dockerfile_line}")
    if hint.bytes:
        where.append(format_bytes(hint.bytes))
    if where:
        text.append("  " + " · ".join(where), style="dim")
    if offer:
        text.append("  ⏎ propose edit", style="green")
    text.append(f"\n  {hint.message}")
    if hint.suggestion:
        text.append(f"\n  fix: {hint.suggestion}", style="italic")
    return text
