"""Canonical forms of units, so copies match whatever their key order, style, names or values.

Two fingerprints per unit:
- *exact*: keys sorted, cosmetic keys (`name`, `id`) dropped, flow/block style and quoting ignored,
  shell bodies reduced to their tokens (whitespace, line breaks and comments do not count);
- *shape*: the exact form with leaf values abstracted, but identity kept — `uses:` keeps owner/repo
  without the ref, images keep the repository without the tag, shell keeps command names and operators.
Copies with equal shapes form a group; where their exact leaves differ, those leaves become parameters.
"""

from __future__ import annotations

import hashlib
from typing import Any

from core.rules.shell_words import split_commands

COSMETIC_KEYS = frozenset({"name", "id"})
#: keys whose value is identity (what the step *is*), kept in the shape
_IDENTITY_KEYS = frozenset({"uses", "image", "shell", "extends", "stage"})
_SHELL_KEYS = frozenset({"run", "script", "before_script", "after_script", "command", "entrypoint"})
_OPERATORS = frozenset({"&&", "||", "|", ";", "&", "(", ")", ";;", "|&", ">", ">>", "<", "2>", "2>&1"})


def shell_tokens(text: str) -> list[str]:
    """Words and operators of a shell body, via the rules' tokenizer: comments and quoting ignored."""
    tokens: list[str] = []
    for command in split_commands(text):
        tokens.extend(word.text for word in command.words)
        if command.op:
            tokens.append(command.op)
    while tokens and tokens[-1] == "\n":
        tokens.pop()
    return tokens


def shell_shape(tokens: list[str]) -> list[str]:
    """Command names and operators kept, arguments abstracted (`pip install -r <w>`)."""
    shaped: list[str] = []
    command_position = True
    for token in tokens:
        if token in _OPERATORS or token == "\n":
            shaped.append(token)
            command_position = True
        elif command_position:
            shaped.append(token if "=" not in token else token.split("=", 1)[0] + "=<w>")
            command_position = "=" in token  # `FOO=bar cmd`: the command is still to come
        elif token.startswith("-"):
            shaped.append(token.split("=", 1)[0])
        else:
            shaped.append("<w>")
    return shaped


def _identity(key: str, value: str) -> str:
    if key == "uses":
        return value.split("@", 1)[0]
    if key == "image":
        name = value.split("@", 1)[0]
        last = name.rsplit("/", 1)[-1]
        return name.rsplit(":", 1)[0] if ":" in last else name
    return value


def exact_form(value: Any, key: str | None = None) -> Any:
    """The exact canonical form of a plain-Python YAML value (see module docstring)."""
    if isinstance(value, dict):
        return {
            k: exact_form(v, k) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if k not in COSMETIC_KEYS
        }
    if isinstance(value, list):
        if key in _SHELL_KEYS:
            return {"$shell": shell_tokens("\n".join(str(v) for v in _flatten(value)))}
        return [exact_form(v) for v in value]
    if key in _SHELL_KEYS and isinstance(value, str):
        return {"$shell": shell_tokens(value)}
    return value


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def shape_form(exact: Any, key: str | None = None, identity: bool = True) -> Any:
    """Abstract the leaves of an exact form, keeping identity keys (unless `identity` is False: a
    per-service manifest's image is a parameter, not what the manifest is) and shell structure."""
    if isinstance(exact, dict):
        if "$shell" in exact and len(exact) == 1:
            return {"$shell": shell_shape(exact["$shell"])}
        return {k: shape_form(v, k, identity) for k, v in exact.items()}
    if isinstance(exact, list):
        return [shape_form(v, None, identity) for v in exact]
    if identity and key in _IDENTITY_KEYS and isinstance(exact, str):
        return _identity(key, exact)
    return "<v>"


def digest(form: Any) -> str:
    """Forms are built with sorted keys, so their repr is canonical and much cheaper than JSON."""
    return hashlib.blake2b(repr(form).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def leaves(exact: Any, prefix: str = "") -> dict[str, Any]:
    """Flat `path -> leaf value` of an exact form; shell bodies are one leaf per token position."""
    out: dict[str, Any] = {}
    if isinstance(exact, dict):
        if "$shell" in exact and len(exact) == 1:
            for i, token in enumerate(exact["$shell"]):
                out[f"{prefix}#{i}"] = token
            return out
        for k, v in exact.items():
            out.update(leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(exact, list):
        for i, v in enumerate(exact):
            out.update(leaves(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = exact
    return out
