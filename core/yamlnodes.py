"""Fast YAML parsing that keeps a line and column for every node.

Scanning composes YAML with libyaml (`CSafeLoader`) and works on the composed node graph, so every key
and value knows where it was written and `on:` stays the string it is in the file (constructing with
PyYAML would turn it into the boolean True). Aliases compose to the very node their anchor defined,
so a finding on merged content points at the anchor's line — the line a user would edit.
Round-trip editing (ruamel.yaml) lives with the patch engine, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.models import ParseProblem, Position

try:  # libyaml is optional at install time; fall back to the pure-Python loader.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the wheel
    _Loader = yaml.SafeLoader

MERGE_TAG = "tag:yaml.org,2002:merge"
#: GitLab CI's `!reference [job, key, ...]`: composes as a tagged sequence, see `resolve_references`
REFERENCE_TAG = "!reference"
#: how deep GitLab lets `!reference` tags nest
REFERENCE_DEPTH = 10

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "compose_documents",
    "get",
    "items",
    "node_position",
    "resolve_references",
    "scalar",
    "to_python",
]


def compose_documents(text: str) -> tuple[list[Node], ParseProblem | None]:
    """Compose every document of a YAML stream; on error return what parsed plus the problem."""
    docs: list[Node] = []
    try:
        for doc in yaml.compose_all(text, Loader=_Loader):
            if doc is not None:
                docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        if line > last:  # an error "at the end of the stream" belongs to the last line
            line, column = last, 1
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}: {what}"
        return docs, ParseProblem(f"invalid YAML: {what}", line, column)
    except yaml.YAMLError as exc:
        return docs, ParseProblem(f"invalid YAML: {exc}")
    except RecursionError:
        return docs, ParseProblem("invalid YAML: nesting too deep")
    return docs, None


def node_position(node: Node) -> Position:
    """The 1-based range a node spans; a block scalar's end mark sits on the line after it."""
    start, end = node.start_mark, node.end_mark
    end_line, end_col = end.line + 1, end.column + 1
    if end.column == 0 and end.line > start.line:
        end_line, end_col = end.line, 10_000
    return Position(start.line + 1, start.column + 1, end_line, end_col)


def items(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """Key/value pairs of a mapping with `<<` merges resolved; explicit keys win over merged ones."""
    if not isinstance(node, MappingNode):
        return
    seen: set[str] = set()
    merged: list[tuple[ScalarNode, Node]] = []
    for key, value in node.value:
        if key.tag == MERGE_TAG or (isinstance(key, ScalarNode) and key.value == "<<"):
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                merged.extend(items(source))
            continue
        if isinstance(key, ScalarNode):
            seen.add(key.value)
            yield key, value
    done: set[str] = set()
    for key, value in merged:
        if key.value not in seen and key.value not in done:
            done.add(key.value)
            yield key, value


def get(node: Node | None, key: str) -> Node | None:
    """The value node under `key` in a mapping (merges resolved), or None."""
    for k, v in items(node):
        if k.value == key:
            return v
    return None


def get_key(node: Node | None, key: str) -> ScalarNode | None:
    """The key node itself, for findings that point at the key rather than the value."""
    for k, _ in items(node):
        if k.value == key:
            return k
    return None


def scalar(node: Node | None) -> str | None:
    """The text of a scalar node as written (no YAML 1.1 booleans), else None."""
    if isinstance(node, ScalarNode):
        return str(node.value)
    return None


def seq(node: Node | None) -> list[Node]:
    """The items of a sequence node, or [] for anything else."""
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def keys(node: Node | None) -> list[str]:
    """The key texts of a mapping, in order, merges resolved."""
    return [k.value for k, _ in items(node)]


_BOOL_TRUE = frozenset({"true", "True", "TRUE"})
_BOOL_FALSE = frozenset({"false", "False", "FALSE"})
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
#: YAML 1.2 core-schema numbers (Python's own int()/float() accept more: "1_0", "nan", "infinity").
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def to_python(node: Node | None, _depth: int = 0) -> Any:
    """Plain Python values with YAML 1.2 core-schema scalars (so `on` and `yes` stay strings)."""
    if node is None or _depth > 200:
        return None
    if isinstance(node, MappingNode):
        return {k.value: to_python(v, _depth + 1) for k, v in items(node)}
    if isinstance(node, SequenceNode):
        return [to_python(v, _depth + 1) for v in node.value]
    assert isinstance(node, ScalarNode)
    value = node.value
    if node.style:  # quoted or block: always a string (libyaml gives plain scalars the style '')
        return value
    if value in _NULLS:
        return None
    if value in _BOOL_TRUE:
        return True
    if value in _BOOL_FALSE:
        return False
    if _INT.fullmatch(value):
        return int(value, 0) if value[:2] in ("0x", "0o") else int(value)
    if _FLOAT.fullmatch(value):
        return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                     .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
    return value


def resolve_references(node: Node | None, roots: list[Node], _depth: int = 0) -> Any:
    """Plain Python as `to_python` gives, with every GitLab `!reference [job, key, ...]` replaced by the
    value it names in `roots` (the documents of one pipeline, first match wins). `to_python` alone keeps
    the tag's operands as a plain list, which GitLab would read as script lines. A reference that names
    nothing, or nests deeper than GitLab allows, stays `{"!reference": [...]}` so comparisons see it."""
    if isinstance(node, SequenceNode) and node.tag == REFERENCE_TAG:
        path = [scalar(part) for part in node.value]
        target = _referenced(path, roots) if _depth < REFERENCE_DEPTH else None
        if target is None:
            return {REFERENCE_TAG: path}
        return resolve_references(target, roots, _depth + 1)
    if isinstance(node, MappingNode):
        return {k.value: resolve_references(v, roots, _depth) for k, v in items(node)}
    if isinstance(node, SequenceNode):
        return [resolve_references(v, roots, _depth) for v in node.value]
    return to_python(node)


def _referenced(path: list[str | None], roots: list[Node]) -> Node | None:
    if not path or any(part is None for part in path):
        return None
    for root in roots:
        found: Node | None = root
        for part in path:
            found = get(found, str(part))
        if found is not None:
            return found
    return None


def last_line(node: Node) -> int:
    """0-based index of the last line holding the node's content.

    End marks are not enough: a literal block scalar (`run: |`) ends where the next token begins, which
    may be a following key's line, so its content is counted from its own lines instead. A folded one
    (`>`) joins its lines, so its value cannot count them: its end mark does (a blank line right after it
    may be counted with it).
    """
    if isinstance(node, ScalarNode):
        if node.style == "|":
            return node.start_mark.line + max(1, len(node.value.splitlines()))
        if node.style == ">":
            end = node.end_mark
            return max(node.start_mark.line + 1, end.line - 1 if end.column == 0 else end.line)
        end = node.end_mark
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    if getattr(node, "flow_style", False):
        return node.end_mark.line
    last = node.start_mark.line
    if isinstance(node, MappingNode):
        for key, value in node.value:
            last = max(last, last_line(key), last_line(value))
    elif isinstance(node, SequenceNode):
        for item in node.value:
            last = max(last, last_line(item))
    return last
