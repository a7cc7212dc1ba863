"""The fixer registry: one fixer per rule ID, registered with the `@fixer(rule_id, safety)` decorator.

A decorated function takes `(finding, parsed, root)` and returns a `TextFix` (or None / raises
`CannotFix` when this instance cannot be fixed). `registered_fixers()[rule_id]` is a `Fixer`, whose
call gives the `Proposal` the design asks for; `core.fixes.engine` uses the `TextFix` level to chain
several fixes on one file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.fixes.model import TextFix
from core.models import Finding
from core.parsing import ParsedFile
from core.patching.proposal import Proposal, Safety

FixFn = Callable[[Finding, ParsedFile, Path], TextFix | None]

#: Modules holding fixers; imported on first use.
FIXER_MODULES = ("core.fixes.dockerfile", "core.fixes.gha", "core.fixes.compose", "core.fixes.k8s")

#: Rules whose fix is deliberately not offered, and why (shown by `devops-tui fix`).
NOT_OFFERED: dict[str, str] = {
    "DT-G003": "pinning needs GITHUB_TOKEN and network access; not offered",
    "DT-G004": "pinning needs GITHUB_TOKEN and network access; not offered",
}


@dataclass(frozen=True, slots=True)
class Fixer:
    """A rule's quick fix: `safety` is the most it can be; an instance may be downgraded to review."""

    rule_id: str
    safety: Safety
    compute: FixFn = field(repr=False, compare=False)

    def __call__(self, finding: Finding, parsed: ParsedFile, root: Path) -> Proposal | None:
        """The fix of one finding as a Proposal made against the file on disk (None if not fixable)."""
        from core.fixes.engine import fix_one

        return fix_one(self, finding, parsed, root)


_REGISTRY: dict[str, Fixer] = {}
_loaded = False


def fixer(rule_id: str, safety: str | Safety = Safety.SAFE) -> Callable[[FixFn], FixFn]:
    """Register the decorated function as the quick fix of `rule_id`."""
    level = Safety(safety)

    def register(fn: FixFn) -> FixFn:
        if rule_id in _REGISTRY:
            raise ValueError(f"duplicate fixer for {rule_id}")
        _REGISTRY[rule_id] = Fixer(rule_id, level, fn)
        return fn

    return register


def registered_fixers() -> dict[str, Fixer]:
    """Every fixer by rule ID, importing the fixer modules on first use."""
    global _loaded
    if not _loaded:
        for name in FIXER_MODULES:
            importlib.import_module(name)
        _loaded = True
    return dict(sorted(_REGISTRY.items()))


def fixable_rule_ids() -> frozenset[str]:
    """Rule IDs that have a quick fix."""
    return frozenset(registered_fixers())
