"""`.env` files: KEY=VALUE lines with their line numbers, the way docker compose reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s?(.*)$")


@dataclass(frozen=True, slots=True)
class EnvEntry:
    key: str
    value: str
    line: int
    value_column: int  # 1-based column where the value starts


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    # An unquoted value ends at an inline comment preceded by whitespace.
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def parse_env(text: str) -> tuple[EnvEntry, ...]:
    """Every assignment in an env file; comments and malformed lines are ignored, as compose does."""
    entries: list[EnvEntry] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            entries.append(EnvEntry(match.group(1), _unquote(match.group(2)), number, match.start(2) + 1))
    return tuple(entries)
