"""Redaction: the only way a secret value may appear in any output — a short prefix and a hash."""

from __future__ import annotations

import hashlib


def secret_hash(value: str) -> str:
    """A short, stable hash of a secret: lets users match findings without seeing the value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def redact(value: str, keep: int = 4) -> str:
    """`AKIA…[sha256:1a2b3c4d5e6f]`: at most `keep` leading characters, fewer for short values."""
    keep = min(keep, max(0, len(value) // 4))
    return f"{value[:keep]}…[sha256:{secret_hash(value)}]"
