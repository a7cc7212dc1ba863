"""The rule catalogue. Each module registers its rules with `core.rules.base.rule` on import."""

from __future__ import annotations

import importlib

#: modules holding rules; a module that does not exist (yet) is skipped.
RULE_MODULES = (
    "core.rules.parse_errors",
    "core.rules.dockerfile",
    "core.rules.dockerfile_packages",
    "core.rules.dockerfile_trust",
    "core.rules.compose",
    "core.rules.gha",
    "core.rules.gitlab",
    "core.rules.k8s",
    "core.rules.secrets",
)

_loaded = False


def load_all() -> None:
    """Import every rule module once."""
    global _loaded
    if _loaded:
        return
    for name in RULE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    _loaded = True
