"""Exact positions inside YAML scalars, and the `${{ … }}` expressions they contain.

Contract: `SourceMap(text).span(node, start, end)` gives the file `Position` of `node.value[start:end]`
for any scalar style — plain, quoted (escapes, `''`), literal `|` and folded `>` blocks, multi-line
flows — so a finding points at the very token inside a `run:` block, not at the `run:` key. It works on
libyaml's marks (character indexes into the same text) and aligns the parsed value with the raw text
only when a finding needs it. Shared by the GitHub Actions and GitLab CI rules.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from core.models import Position
from core.yamlnodes import Node, ScalarNode, node_position

_NEWLINE = re.compile(r"\n")
#: `${{ … }}`; GitHub does not allow `}}` inside an expression, so the shortest match is the right one.
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Expression:
    """One `${{ … }}` in a scalar's value: offsets into the value and the inner text, stripped."""

    start: int
    end: int
    inner: str


def expressions(value: str) -> Iterator[Expression]:
    """Every `${{ … }}` in `value`, in order."""
    if "${{" not in value:
        return
    for match in EXPRESSION.finditer(value):
        yield Expression(match.start(), match.end(), match.group(1).strip())


def _align(raw: str, value: str) -> list[int]:
    """For each character of `value`, its index in `raw` (the scalar as written).

    Greedy and whitespace-tolerant: indentation, quotes and escape backslashes in `raw` are skipped, and
    a folded line break (a space in the value) matches the newline it came from. Non-blank characters —
    the ones findings point at — land exactly.
    """
    out: list[int] = []
    j, n = 0, len(raw)
    for ch in value:
        blank = ch in " \n"
        while j < n and raw[j] != ch and not (blank and raw[j] in " \t\r\n"):
            j += 1
        out.append(min(j, max(n - 1, 0)))
        j += 1
    return out


class SourceMap:
    """A file's text with its line starts: turns character indexes and scalar offsets into Positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._aligned: dict[int, tuple[int, list[int]]] = {}

    def point(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of a character index."""
        line = bisect_right(self._starts, index)
        return line, index - self._starts[line - 1] + 1

    def between(self, start: int, end: int) -> Position:
        """The Position of text[start:end] (end exclusive)."""
        line, column = self.point(start)
        end_line, end_column = self.point(end)
        return Position(line, column, end_line, end_column)

    def _raw_offsets(self, node: ScalarNode) -> tuple[int, list[int]]:
        cached = self._aligned.get(id(node))
        if cached is not None:
            return cached
        begin, finish = node.start_mark.index, node.end_mark.index
        raw = self.text[begin:finish]
        skip = 0
        if node.style in ("|", ">"):
            newline = raw.find("\n")  # the header line (`|-`, `>2`, a comment) holds no content
            skip = newline + 1 if newline >= 0 else len(raw)
        elif node.style in ("'", '"'):
            skip = 1
        result = (begin + skip, _align(raw[skip:], str(node.value)))
        self._aligned[id(node)] = result
        return result

    def span(self, node: Node, start: int, end: int) -> Position:
        """Where `node.value[start:end]` is written; a non-scalar gives the node's own range."""
        if not isinstance(node, ScalarNode) or not node.value:
            return node_position(node)
        base, offsets = self._raw_offsets(node)
        start = max(0, min(start, len(offsets) - 1))
        last = max(start, min(end - 1, len(offsets) - 1))
        return self.between(base + offsets[start], base + offsets[last] + 1)
