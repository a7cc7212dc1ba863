"""Keyword + value heuristics: is `KEY=VALUE` a plaintext secret, or a placeholder/reference?

Shared by every rule that looks at named values (Dockerfile ARG/ENV, compose `environment:`, k8s
`env.value`, CI variables, `.env` files, shell exports), so they agree on what a secret is.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_SECRET_KEY = re.compile(
    r"(?:^|[_.-])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|"
    r"access[_-]?key|secret[_-]?key|auth[_-]?key|credentials?|client[_-]?secret|signing[_-]?key|"
    r"encryption[_-]?key|master[_-]?key|dsn|conn(?:ection)?[_-]?string)(?:$|[_.-])",
    re.IGNORECASE,
)
#: Keys that name *where* a secret is, or describe it, rather than hold it.
_NOT_A_VALUE_KEY = re.compile(
    r"(?:_|\b)(?:file|path|dir|url|uri|endpoint|name|names|id|type|length|len|ttl|expiry|expires|"
    r"enabled|enable|required|min|max|policy|header|field|ref|arn|secret_?name|env|mode|format|"
    r"location|hint|regex|pattern|rotation|version|count|size|timeout)$",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"^\$\{[^}]*\}$|^\$[A-Za-z_][A-Za-z0-9_]*$|^\$\{\{.*\}\}$|^\{\{.*\}\}$|^\$\(.*\)$|^%[A-Za-z_]+%$|"
    r"^/run/secrets/|^/var/run/secrets/|^vault:|^arn:aws:secretsmanager:|^ref\+|^secretRef:"
)
_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme", "change_me", "change-me", "changeit", "example", "sample", "placeholder", "dummy",
        "redacted", "secret", "password", "passwd", "token", "none", "null", "nil", "todo", "tbd",
        "xxx", "your_password", "your-password", "yourpassword", "your_token", "your_api_key",
        "mysecret", "notsecret", "not-a-secret", "test", "testing", "fake", "true", "false", "yes", "no",
        "required", "optional", "default", "empty", "unset", "string", "value", "insert_here",
        # permission levels (GitHub Actions `id-token: write`), never credentials
        "read", "write", "read-all", "write-all",
    }
)
#: Values published in vendor documentation as examples; never real credentials.
KNOWN_EXAMPLE_VALUES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        # The Azure storage emulator's well-known account key.
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    }
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PLACEHOLDER_SHAPE = re.compile(
    r"^<[^>]*>$|^\[[^\]]*\]$|^\*+$|^x+$|^\.\.\.$|^…$|^(?:your|my|insert|put|enter|replace)[-_ ]|"
    r"(?:_here|-here|_placeholder)$|^\$\{?[A-Z_]+\}?$|^[-_.]*$",
    re.IGNORECASE,
)


def shannon_entropy(value: str) -> float:
    """Bits per character; random tokens score high, words and repeated characters low."""
    if not value:
        return 0.0
    counts = Counter(value)
    length = len(value)
    return -sum(c / length * math.log2(c / length) for c in counts.values())


def is_secret_key(key: str) -> bool:
    """Whether a variable name says it holds a secret value (`DB_PASSWORD`, not `PASSWORD_FILE`)."""
    key = key.strip().strip("'\"")
    # camelCase names (`dbPassword`, `apiKey`, `secretKeyRef`) are read as their snake_case form.
    key = _CAMEL_BOUNDARY.sub("_", key)
    return bool(_SECRET_KEY.search(key)) and not _NOT_A_VALUE_KEY.search(key)


def is_placeholder(value: str) -> bool:
    """References (`${VAR}`, `${{ secrets.X }}`), documented placeholders and empty values."""
    value = value.strip().strip("'\"").strip()
    if len(value) < 4 or value in KNOWN_EXAMPLE_VALUES:
        return True
    if _REFERENCE.search(value) or _PLACEHOLDER_SHAPE.search(value):
        return True
    lowered = value.lower()
    if lowered in _PLACEHOLDER_WORDS:
        return True
    if "${" in value or "{{" in value or "$(" in value:
        return True  # built from references at run time
    return lowered.startswith(("changeme", "example", "dummy", "placeholder", "replace"))


def looks_like_secret_assignment(key: str, value: str) -> bool:
    """`KEY=VALUE` holds a plaintext secret: a secret-sounding key with a real-looking value."""
    if not is_secret_key(key):
        return False
    value = value.strip().strip("'\"").strip()
    if is_placeholder(value):
        return False
    # A value of one repeated character or a plain boolean/number is configuration, not a secret.
    return not (value.isdigit() and len(value) < 6) and shannon_entropy(value) >= 1.5
