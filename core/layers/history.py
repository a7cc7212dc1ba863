"""Which instruction made each layer, and which Dockerfile line that instruction came from.

Contract: the image config's `history` is walked in order; entries marked `empty_layer` made no layer
and every other entry made the next layer (a zero-size layer is still a layer, so size is never used to
guess). Instructions are shown as written in a Dockerfile (`RUN ...`, `COPY ...`), whether the classic
builder (`/bin/sh -c #(nop) COPY ...`) or BuildKit (`RUN /bin/sh -c ... # buildkit`) recorded them.
Dockerfile lines are matched from the end: the last RUN/COPY/ADD layers of the image correspond, in
order, to the RUN/COPY/ADD instructions of the Dockerfile's final stage; a keyword mismatch stops it.
"""

from __future__ import annotations

import re
from typing import Any

from core.dockerfile import Dockerfile, Instruction

_SHELL = re.compile(r"^(?:/bin/sh|/bin/bash|sh|bash) -c ")
_NOP = "#(nop) "
_BUILDKIT_SUFFIX = " # buildkit"
LAYER_KEYWORDS = ("RUN", "COPY", "ADD")


def instruction_of(created_by: str) -> str:
    """'/bin/sh -c #(nop)  COPY file:ab in /x' -> 'COPY file:ab in /x'; '/bin/sh -c make' -> 'RUN make'."""
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].strip()
        if text.startswith("RUN "):
            return "RUN " + _SHELL.sub("", text[4:], count=1).strip()
        return text
    shell = _SHELL.match(text)
    if shell:
        rest = text[shell.end():].strip()
        if rest.startswith(_NOP):
            return rest[len(_NOP):].strip()
        return "RUN " + rest
    return text


def layer_history(config: dict[str, Any], layer_count: int) -> tuple[list[str], str | None]:
    """`created_by` of each layer, plus a note when history and layers disagree in number."""
    history = config.get("history")
    if not isinstance(history, list):
        return [""] * layer_count, "the image has no build history; instructions are unknown"
    made = [
        str(h.get("created_by", "")) for h in history
        if isinstance(h, dict) and not h.get("empty_layer", False)
    ]
    if len(made) != layer_count:
        note = f"history lists {len(made)} layer-making steps for {layer_count} layers; instructions unknown"
        return [""] * layer_count, note
    return made, None


def dockerfile_lines(instructions: list[str], dockerfile: Dockerfile | None) -> list[Instruction | None]:
    """The final-stage Dockerfile instruction behind each layer, where it can be told."""
    matched: list[Instruction | None] = [None] * len(instructions)
    if dockerfile is None or dockerfile.final_stage is None:
        return matched
    wanted = [i for i in dockerfile.final_stage.instructions if i.keyword in LAYER_KEYWORDS]
    layer_indexes = [i for i, text in enumerate(instructions) if text.split(" ", 1)[0] in LAYER_KEYWORDS]
    for layer_index, source in zip(reversed(layer_indexes), reversed(wanted), strict=False):
        if instructions[layer_index].split(" ", 1)[0] != source.keyword:
            break
        matched[layer_index] = source
    return matched
