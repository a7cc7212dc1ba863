"""Exact positions inside YAML scalars, shared by the GitHub Actions and GitLab CI rules and fixes.

Contract: `SourceMap(text).span(node, start, end)` gives the file `Position` of `node.value[start:end]`
for any scalar style — plain, quoted (escapes, `''`), literal `|` and folded `>` blocks, multi-line
flows — so a finding points at the very token inside a `run:` or `script:` block, not at its key. It
works on libyaml's marks (character indexes into the same text) and aligns the parsed value with the raw
text only when a finding needs it.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from core.models import Position
from core.yamlnodes import Node, ScalarNode, node_position

_NEWLINE = re.compile(r"\n")


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
        self._line_starts: list[int] | None = None
        self._aligned: dict[int, tuple[int, list[int]]] = {}

    @property
    def _starts(self) -> list[int]:
        """Line start indexes, computed on the first finding (most files have none)."""
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        return self._line_starts

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

    def _direct(self, node: ScalarNode, offset: int) -> int | None:
        """The character index of value[offset] without aligning, for the common scalar shapes."""
        begin = node.start_mark.index
        value = str(node.value)
        if not node.style and node.start_mark.line == node.end_mark.line:
            return begin + offset  # a one-line plain scalar is written exactly as its value
        if node.style != "|":
            return None
        header_end = self.text.find("\n", begin, node.end_mark.index)
        if header_end < 0:
            return None
        line_no = value.count("\n", 0, offset)
        line_start = value.rfind("\n", 0, offset) + 1
        first = node.start_mark.line + 1  # 0-based line of the first content line
        content = self._starts[first] if first < len(self._starts) else len(self.text)
        indent = content
        while indent < len(self.text) and self.text[indent] == " ":
            indent += 1
        if indent >= len(self.text) or self.text[indent] in "\r\n":
            return None  # a blank first line does not show the block's indentation
        indent -= content
        line_index = first + line_no
        if line_index >= len(self._starts):
            return None
        return self._starts[line_index] + indent + offset - line_start

    def span(self, node: Node, start: int, end: int) -> Position:
        """Where `node.value[start:end]` is written; a non-scalar gives the node's own range."""
        if not isinstance(node, ScalarNode) or not node.value:
            return node_position(node)
        length = len(str(node.value))
        start = max(0, min(start, length - 1))
        last = max(start, min(end - 1, length - 1))
        first_index, last_index = self._direct(node, start), self._direct(node, last)
        if first_index is None or last_index is None:
            base, offsets = self._raw_offsets(node)
            first_index, last_index = base + offsets[start], base + offsets[last]
        return self.between(first_index, last_index + 1)
