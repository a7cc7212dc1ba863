"""Masking of secret values in diff lines before they are shown or printed.

A diff of a proposal that removes a hard-coded password would otherwise print that password. Lines of
the shape `KEY=VALUE` / `KEY: VALUE` (optionally `export`, `- `, `ENV`, `ARG` before) whose key and
value look like a plaintext secret (`core.secrets.keywords`) show the value redacted. Only displayed
text is masked; the bytes a proposal writes are never touched.
"""

from __future__ import annotations

import re

from core.redact import redact
from core.secrets.keywords import looks_like_secret_assignment

_ASSIGNMENT = re.compile(
    r"^(?P<lead>\s*(?:-\s+)?(?:export\s+|ENV\s+|ARG\s+)?)(?P<key>[\"']?[A-Za-z_][A-Za-z0-9_.-]*[\"']?)"
    r"(?P<sep>\s*[:=]\s*)(?P<value>\S.*?)(?P<tail>\s*)$",
    re.IGNORECASE,
)


def mask_line(text: str) -> str:
    """`text` with a secret-looking assigned value replaced by its redaction."""
    match = _ASSIGNMENT.match(text)
    if match is None or not looks_like_secret_assignment(match["key"], match["value"]):
        return text
    value = match["value"].strip().strip("'\"")
    return f"{match['lead']}{match['key']}{match['sep']}{redact(value)}{match['tail']}"
