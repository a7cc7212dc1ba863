"""What a rule is, and how rule modules register themselves.

A rule is a small object: a stable ID (`DT-<letter><3 digits>`: D Dockerfile, C compose, G GitHub
Actions, L GitLab CI, K Kubernetes, S secrets, P parse errors), a title, a default severity, a help text
saying why it matters and how to fix it, the file kinds it applies to, and the equivalent IDs of peer
tools (`hadolint:DL3007`, `checkov:CKV_DOCKER_2`, `zizmor:unpinned-uses`, `gitleaks:aws-access-token`,
`detect-secrets:AWSKeyDetector`, `trivy:DS-0002`, `kics:<query name>`), so users can map and migrate.

A rule's `check(parsed, ctx)` yields `Hit`s (a position, a message and, when one rule covers cases of
different weight, the hit's own severity). The engine (`core.scan`) turns hits into `Finding`s: it
applies configured severities, suppressions and fingerprints. Rule code never builds a `Finding` itself
and never puts a secret value into a message — use `core.redact.redact()`. What several rules read from
one file is built once through `FileCache`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fires.

    `anchor` is the text the fingerprint is computed from; it defaults to the flagged line's content,
    which survives edits elsewhere in the file. Give something more specific (e.g. "service:web") when
    several hits share one line. `fix_data` is opaque data the rule's fixer may use. `severity`, when
    set, replaces the rule's default for this hit (a user's configured severity still wins).
    """

    position: Position
    message: str
    anchor: str | None = None
    fix_data: tuple[tuple[str, str], ...] = ()
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class ScanContext:
    """Repository-wide facts a rule may need beyond its own file."""

    root: Path
    paths: frozenset[str] = frozenset()

    def exists(self, rel: str) -> bool:
        return rel in self.paths


CheckFn = Callable[[ParsedFile, ScanContext], Iterable[Hit]]
T = TypeVar("T")


class FileCache(Generic[T]):
    """Memoises a per-file computation shared by several rules (a file's model, its secrets).

    The engine runs every rule on one file before the next, so the last file is the whole cache. It is
    kept per thread, so a scan in a worker thread and another on the main thread never evict each other.
    """

    __slots__ = ("_build", "_last")

    def __init__(self, build: Callable[[ParsedFile], T]) -> None:
        self._build = build
        self._last = threading.local()

    def __call__(self, parsed: ParsedFile) -> T:
        entry: tuple[ParsedFile, T] | None = getattr(self._last, "entry", None)
        if entry is not None and entry[0] is parsed:
            return entry[1]
        value = self._build(parsed)
        self._last.entry = (parsed, value)
        return value


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    kinds: frozenset[FileKind]
    help: str
    check: CheckFn = field(repr=False, compare=False)
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ("security",)
    #: a fixer is attached later by the quick-fix layer (`core.fixes`), keyed by rule ID.

    @property
    def alias_ids(self) -> tuple[str, ...]:
        """Peer IDs without their tool prefix ("DL3007" for "hadolint:DL3007")."""
        return tuple(a.split(":", 1)[1] for a in self.aliases if ":" in a)

    def run(self, parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
        yield from self.check(parsed, ctx)


_REGISTRY: dict[str, Rule] = {}

ALL_KINDS = frozenset(FileKind)


def rule(
    rule_id: str,
    title: str,
    severity: Severity,
    kinds: Iterable[FileKind],
    *,
    help: str,
    aliases: Iterable[str] = (),
    tags: Iterable[str] = ("security",),
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated check function as a rule. IDs are unique and never reused."""

    def register(fn: CheckFn) -> CheckFn:
        if rule_id in _REGISTRY:
            raise ValueError(f"duplicate rule id {rule_id}")
        _REGISTRY[rule_id] = Rule(
            id=rule_id,
            title=title,
            severity=severity,
            kinds=frozenset(kinds),
            help=help.strip(),
            check=fn,
            aliases=tuple(aliases),
            tags=tuple(tags),
        )
        return fn

    return register


def registered_rules() -> dict[str, Rule]:
    """Every rule, importing the rule modules on first use."""
    from core.rules import load_all

    load_all()
    return dict(sorted(_REGISTRY.items()))
