"""Building blocks every abstraction proposal shares: the refusal, YAML text, names, paths.

Kept apart from `core.dupes.propose` so that each abstraction module (composite action, reusable
workflow, anchors, compose extends, base stage) depends on these and `propose` dispatches to them all.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./-]*$")


class NotProposable(Exception):
    """This cluster has no safe automatic abstraction (the reason is shown to the user)."""


def yaml_scalar(value: object) -> str:
    """A YAML scalar for `value` that reads back as the same string (JSON strings are valid YAML)."""
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in ("true", "false", "yes", "no", "on", "off", "null"):
        return text
    return json.dumps(text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "shared"


def _literal_blocks(value: Any) -> Any:
    """Multi-line strings as `|` blocks, the way people write `run:` bodies."""
    if isinstance(value, dict):
        return {k: _literal_blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def dump_yaml(data: Any) -> str:
    data = _literal_blocks(data)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# --- composite action -------------------------------------------------------------------------------


def strip_uses_ref(step: dict[str, Any]) -> dict[str, Any]:
    out = dict(step)
    if isinstance(out.get("uses"), str) and not out["uses"].startswith("./"):
        out["uses"] = out["uses"].split("@", 1)[0]
    return out


def common_parent(folders: set[str]) -> str:
    parts = [Path(f).parts for f in folders]
    prefix = []
    for group in zip(*parts, strict=False):
        if len(set(group)) != 1:
            break
        prefix.append(group[0])
    return "/".join(prefix) or "."
