"""Minimal text edits of YAML placed by composed-node positions: never a re-dump of the document.

Contract: every helper takes the file's text and composed nodes (from `core.yamlnodes`, so positions
are libyaml's) and returns the new text plus the 1-based line span it touched. New keys are written in
block style at the column of their siblings, with the file's own indentation step and sequence style;
existing scalars are rewritten in their own quoting style. Flow collections other than an empty `{}`
and a one-line `[…]` are refused with `CannotFix`, as are documents whose layout the helpers cannot
be sure of — a fix that is not certain is not offered.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from core.fixes.model import CannotFix
from core.patching.textedit import insert_after_line
from core.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, get, get_key, last_line

Span = tuple[int, int]
Leaf = str | tuple[str, ...]  # a scalar's text as written, or the items a sequence must hold

_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./$][A-Za-z0-9_./${}:?=+@, -]*")


def walk(docs: Sequence[Node]) -> Iterator[tuple[Node | None, Node]]:
    """(key or None, node) for every node of the documents, aliases visited once."""
    seen: set[int] = set()
    stack: list[tuple[Node | None, Node]] = [(None, d) for d in reversed(docs)]
    while stack:
        key, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield key, node
        if isinstance(node, MappingNode):
            stack.extend((k, v) for k, v in reversed(node.value))
        elif isinstance(node, SequenceNode):
            stack.extend((None, v) for v in reversed(node.value))


def node_at(docs: Sequence[Node], line: int, column: int) -> tuple[Node | None, Node] | None:
    """The (key, node) pair whose key or value starts at 1-based (line, column), innermost first."""
    for key, node in walk(docs):
        if key is not None and (key.start_mark.line + 1, key.start_mark.column + 1) == (line, column):
            return key, node
        if (node.start_mark.line + 1, node.start_mark.column + 1) == (line, column) and \
                isinstance(node, ScalarNode):
            return key, node
    return None


def indent_unit(docs: Sequence[Node]) -> int:
    """The file's indentation step: the most common offset of a nested block mapping from its key."""
    counts: Counter[int] = Counter()
    for key, node in walk(docs):
        if key is not None and isinstance(node, MappingNode) and not node.flow_style:
            step = node.start_mark.column - key.start_mark.column
            if step > 0 and node.start_mark.line > key.start_mark.line:
                counts[step] += 1
    return counts.most_common(1)[0][0] if counts else 2


def sequence_offset(docs: Sequence[Node], unit: int) -> int:
    """How far block sequences under a key are indented from it (0 for the `key:\\n- item` style)."""
    counts: Counter[int] = Counter()
    for key, node in walk(docs):
        if key is not None and isinstance(node, SequenceNode) and not node.flow_style and \
                node.start_mark.line > key.start_mark.line:
            counts[node.start_mark.column - key.start_mark.column] += 1
    return counts.most_common(1)[0][0] if counts else unit


def render_scalar(value: str, style: str | None = "") -> str:
    """`value` as a YAML scalar in `style` ('' plain, '"', "'"); plain falls back to double quotes."""
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style in ("", None) and _PLAIN_SAFE.fullmatch(value) and ": " not in value and " #" not in value \
            and not value.endswith((":", " ")):
        return value
    return json.dumps(value, ensure_ascii=False)


def insert_lines(text: str, after_line: int, lines: Sequence[str]) -> str:
    """Insert whole lines after 1-based `after_line` (0: at the top; past the end: at the end), in the
    file's line ending."""
    count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return insert_after_line(text, min(after_line, count), "\n".join(lines))


def replace_node(text: str, node: Node, new: str) -> tuple[str, Span]:
    """Replace a node written on one line with `new`."""
    start, end = node.start_mark, node.end_mark
    if end.line != start.line:
        raise CannotFix("the value spans several lines")
    return text[: start.index] + new + text[end.index :], (start.line + 1, start.line + 1)


def set_scalar(text: str, node: Node, value: str) -> tuple[str, Span]:
    """Rewrite a one-line scalar's value, keeping its quoting style."""
    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        raise CannotFix("the value is not a one-line scalar")
    return replace_node(text, node, render_scalar(value, node.style))


def _block_lines(keys: Sequence[str], leaf: Leaf, unit: int, seq_offset: int) -> list[str]:
    """`a:\\n  b: leaf` (or `b:\\n  - item`) as lines relative to column 0."""
    lines = [" " * (unit * depth) + f"{key}:" for depth, key in enumerate(keys[:-1])]
    depth = unit * (len(keys) - 1)
    if isinstance(leaf, tuple):
        lines.append(" " * depth + f"{keys[-1]}:")
        lines.extend(" " * (depth + seq_offset) + f"- {render_scalar(item)}" for item in leaf)
    else:
        lines.append(" " * depth + f"{keys[-1]}: {leaf}")
    return lines


def _insert_into_mapping(text: str, mapping: MappingNode, lines: list[str]) -> tuple[str, Span]:
    if mapping.flow_style:
        raise CannotFix("the mapping is written in flow style")
    column = mapping.start_mark.column
    after = last_line(mapping) + 1
    return insert_lines(text, after, [" " * column + x for x in lines]), (after, after + 1)


def _under_empty_key(text: str, key: Node, value: Node, lines: list[str], indent: int) -> tuple[str, Span]:
    """Give `key:` (null) or `key: {}` / `key: []` its first block children, `indent` past the key."""
    if isinstance(value, ScalarNode) and value.value == "" and value.style in ("", None):
        new = text
    elif isinstance(value, MappingNode | SequenceNode) and value.flow_style and not value.value and \
            value.start_mark.line == key.start_mark.line:
        new = text[: value.start_mark.index].rstrip(" ") + text[value.end_mark.index :]
    else:
        raise CannotFix(f"`{getattr(key, 'value', '?')}` holds a value that cannot take children")
    line = key.start_mark.line + 1
    column = key.start_mark.column + indent
    return insert_lines(new, line, [" " * column + x for x in lines]), (line, line + 1)


def _append_items(text: str, seq: SequenceNode, items: Sequence[str]) -> tuple[str, Span]:
    if seq.flow_style:
        start, end = seq.start_mark, seq.end_mark
        if start.line != end.line or text[end.index - 1] != "]":
            raise CannotFix("the flow sequence spans several lines")
        body = text[start.index + 1 : end.index - 1].strip()
        rendered = ", ".join(render_scalar(i) for i in items)
        inner = f"{body}, {rendered}" if body else rendered
        return text[: start.index] + f"[{inner}]" + text[end.index :], (start.line + 1, start.line + 1)
    column = seq.start_mark.column
    after = last_line(seq) + 1
    lines = [" " * column + f"- {render_scalar(i)}" for i in items]
    return insert_lines(text, after, lines), (after, after + 1)


def ensure_path(text: str, docs: Sequence[Node], mapping: MappingNode, keys: Sequence[str],
                leaf: Leaf) -> tuple[str, Span]:
    """Make `mapping[k1][k2]…` equal `leaf` (a scalar's text) or contain every item of `leaf` (a tuple).

    Missing keys are added at the end of the deepest existing mapping; an existing scalar is rewritten
    in its own style; items missing from an existing sequence are appended to it.
    """
    unit = indent_unit(docs)
    offset = sequence_offset(docs, unit)
    node: Node = mapping
    for depth, key in enumerate(keys):
        if not isinstance(node, MappingNode):
            raise CannotFix(f"`{keys[depth - 1]}` is not a mapping")
        child, key_node = get(node, key), get_key(node, key)
        rest = keys[depth:]
        if child is None or key_node is None:
            return _insert_into_mapping(text, node, _block_lines(rest, leaf, unit, offset))
        if depth == len(keys) - 1:
            return _set_leaf(text, key_node, child, leaf, unit, offset)
        if isinstance(child, ScalarNode) or (not child.value and getattr(child, "flow_style", False)):
            lines = _block_lines(keys[depth + 1 :], leaf, unit, offset)
            return _under_empty_key(text, key_node, child, lines, unit)
        node = child
    raise CannotFix("empty key path")


def _set_leaf(text: str, key: Node, child: Node, leaf: Leaf, unit: int, offset: int) -> tuple[str, Span]:
    if isinstance(leaf, tuple):
        if isinstance(child, SequenceNode):
            present = {str(i.value) for i in child.value if isinstance(i, ScalarNode)}
            missing = [i for i in leaf if i not in present]
            if not missing:
                raise CannotFix("the sequence already holds the items")
            if not child.value and child.flow_style:
                return _under_empty_key(text, key, child, [f"- {render_scalar(i)}" for i in missing], offset)
            return _append_items(text, child, missing)
        if isinstance(child, ScalarNode) and child.value == "":
            return _under_empty_key(text, key, child, [f"- {render_scalar(i)}" for i in leaf], offset)
        raise CannotFix("the value is not a sequence")
    if isinstance(child, ScalarNode):
        if child.style in ("", None) and child.value == "":  # `key:` with no value
            line = key.start_mark.line
            end = key.end_mark.index
            new = text[:end] + f": {leaf}" + text[text.index(":", end) + 1 :]
            return new, (line + 1, line + 1)
        return replace_node(text, child, leaf)
    raise CannotFix("the value is a collection, not a scalar")
