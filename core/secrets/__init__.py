"""Secret detection: token formats, private keys, credentials in URLs, and keyword assignments.

Use `find_secrets` to locate secrets, `mask_secrets` / `SecretMasker` before any text leaves the
process (the LLM agent, the file view), and `redacted_lines` / `redact_line` for snippets.
`core.secrets.keywords` holds the shared "is this KEY=VALUE a secret" heuristics.
"""

from core.secrets.detectors import DETECTORS, DETECTORS_BY_ID, Detector
from core.secrets.scanner import (
    MaskedText,
    SecretMasker,
    SecretMatch,
    find_secrets,
    mask_secrets,
    redact_line,
    redact_secrets,
    redacted_lines,
)

__all__ = [
    "DETECTORS",
    "DETECTORS_BY_ID",
    "Detector",
    "MaskedText",
    "SecretMasker",
    "SecretMatch",
    "find_secrets",
    "mask_secrets",
    "redact_line",
    "redact_secrets",
    "redacted_lines",
]
