"""Parse a file once into the structure its rules need, cached by content hash.

A `ParsedFile` is what every scanner receives: the text and its lines, plus the YAML documents, the
Dockerfile or the env entries. A parse failure is kept as `problem` (a finding later) — never dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from core.dockerfile import Dockerfile, parse_dockerfile
from core.envfile import EnvEntry, parse_env
from core.gcpause import paused_gc as paused_gc  # re-exported for the scanners
from core.models import FileKind, InfraFile, ParseProblem
from core.yamlnodes import Node, compose_documents


@dataclass(frozen=True, slots=True, eq=False)
class ParsedFile:
    """A file and its parse; `docs` for YAML kinds, `dockerfile` and `env` for theirs."""

    file: InfraFile
    text: str
    docs: tuple[Node, ...] = ()
    dockerfile: Dockerfile | None = None
    env: tuple[EnvEntry, ...] = ()
    problem: ParseProblem | None = None
    lines: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def kind(self) -> FileKind:
        return self.file.kind

    def line(self, number: int) -> str:
        """Line `number` (1-based) or '' when out of range."""
        lines = self.lines or tuple(self.text.splitlines())
        return lines[number - 1] if 0 < number <= len(lines) else ""


def parse_text(file: InfraFile, text: str, docs: list[Node] | None = None,
               problem: ParseProblem | None = None) -> ParsedFile:
    """Build the ParsedFile for `file`; YAML already composed during classification is reused."""
    lines = tuple(text.splitlines())
    kind = file.kind
    if kind.is_yaml:
        if docs is None:
            docs, problem = compose_documents(text)
        return ParsedFile(file, text, tuple(docs), problem=problem, lines=lines)
    if kind is FileKind.DOCKERFILE:
        dockerfile = parse_dockerfile(text)
        first = dockerfile.problems[0] if dockerfile.problems else None
        return ParsedFile(file, text, dockerfile=dockerfile, problem=first, lines=lines)
    if kind is FileKind.ENV:
        return ParsedFile(file, text, env=parse_env(text), lines=lines)
    return ParsedFile(file, text, lines=lines)


class ParseCache:
    """An LRU of parses keyed by (content hash, kind): an unchanged file is never parsed twice."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[str, FileKind, str], ParsedFile] = OrderedDict()
        self._kinds: dict[tuple[str, str], FileKind] = {}  # (sha256, path) -> kind of its last parse
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, file: InfraFile) -> ParsedFile | None:
        key = (file.sha256, file.kind, file.path)
        with self._lock:
            parsed = self._items.get(key)
            if parsed is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return parsed

    def get_content(self, sha256: str, path: str) -> ParsedFile | None:
        """The last parse of this exact content at this path, whatever kind it had then.

        Discovery uses it before classifying YAML by content, so an unchanged file is not composed again.
        It does not count as a hit: the `get` that follows with the final kind does.
        """
        with self._lock:
            kind = self._kinds.get((sha256, path))
            if kind is None:
                return None
            parsed = self._items.get((sha256, kind, path))
            if parsed is not None:
                self._items.move_to_end((sha256, kind, path))
            return parsed

    def put(self, parsed: ParsedFile) -> None:
        file = parsed.file
        key = (file.sha256, file.kind, file.path)
        with self._lock:
            self._items[key] = parsed
            self._items.move_to_end(key)
            self._kinds[(file.sha256, file.path)] = file.kind
            while len(self._items) > self._capacity:
                old_sha, old_kind, old_path = self._items.popitem(last=False)[0]
                if self._kinds.get((old_sha, old_path)) is old_kind:
                    del self._kinds[(old_sha, old_path)]
