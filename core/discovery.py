"""Discovery: find the repository's files once, classify them, parse them once.

Contract: `build_index(root)` lists files the way git sees them (tracked plus untracked-not-ignored)
or, outside git, walks the folder honouring `.gitignore`; reads each file once; skips — with a reason
the user can see — binary files, files over the size cap, links that loop or leave the repository,
unreadable files; decodes invalid UTF-8 with replacement characters and says so; classifies each kept
file; parses it once (reusing a `ParseCache` keyed by content hash). It never raises for bad input in
the tree; only a root that does not exist or is not a folder raises `DiscoveryError`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.classify import (
    gitlab_local_includes,
    kind_from_name,
    kind_from_yaml,
    kind_from_yaml_text,
    might_be_infra_yaml,
)
from core.config import Config
from core.gitinfo import RepoInfo, list_git_files, repo_info
from core.ignore import IgnoreRules
from core.models import FileKind, InfraFile, ParseProblem, SkippedFile
from core.parsing import ParseCache, ParsedFile, parse_text, paused_gc
from core.progress import CancelToken, Progress, ProgressCallback, no_progress
from core.yamlnodes import Node, compose_documents

DEFAULT_MAX_BYTES = 1024 * 1024
#: Folders never worth walking outside git (inside git, .gitignore usually says the same).
_ALWAYS_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"})


class DiscoveryError(Exception):
    """The folder to open cannot be opened at all."""


@dataclass(slots=True)
class InfraIndex:
    """Every kept file of a repository, parsed, plus what was skipped and why."""

    repo: RepoInfo
    files: dict[str, InfraFile] = field(default_factory=dict)
    parsed: dict[str, ParsedFile] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.repo.root

    def infra_files(self) -> list[InfraFile]:
        """Files shown in the infrastructure tree, sorted by path."""
        return sorted((f for f in self.files.values() if f.kind.is_infra), key=lambda f: f.path)

    def of_kind(self, *kinds: FileKind) -> list[ParsedFile]:
        return [p for p in self.parsed.values() if p.file.kind in kinds]


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def _decode(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        note = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); shown with �"
        return data.decode("utf-8", errors="replace"), note


def _walk(root: Path, skipped: list[SkippedFile]) -> list[str]:
    """List files under a non-git folder, honouring nested .gitignore files."""
    rules = IgnoreRules()
    found: list[str] = []

    def on_error(exc: OSError) -> None:
        rel = os.path.relpath(exc.filename, root) if exc.filename else "?"
        skipped.append(SkippedFile(rel.replace(os.sep, "/"), f"cannot list folder: {exc.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=on_error, followlinks=False):
        rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        if ".gitignore" in files:
            with contextlib.suppress(OSError):
                rules.add_file(rel_dir, (Path(folder) / ".gitignore").read_text(errors="replace"))
        kept_dirs = []
        for d in sorted(dirs):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d in _ALWAYS_SKIP_DIRS or rules.ignored(rel, True):
                continue
            if os.path.islink(os.path.join(folder, d)):
                skipped.append(SkippedFile(rel, "symbolic link to a folder (not followed)"))
                continue
            kept_dirs.append(d)
        dirs[:] = kept_dirs
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not rules.ignored(rel, False):
                found.append(rel)
    return found


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(
    os, "O_CLOEXEC", 0)
#: Files read per task of the read-ahead thread: big enough that the hand-off costs nothing.
_READ_CHUNK = 256


def _read(root: str, real_root: Path, rel: str, max_bytes: int) -> bytes | SkippedFile:
    """Read one file safely, or say why it was skipped.

    One `open` does the common case: O_NOFOLLOW refuses links (they take the careful path below) and
    O_NONBLOCK keeps a FIFO or device from blocking until `fstat` has shown it is not a regular file.
    """
    path = os.path.join(root, rel)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        if os.path.islink(path):
            return SkippedFile(rel, "broken symbolic link")
        return SkippedFile(rel, "listed by git but missing on disk (deleted?)")
    except PermissionError:
        return SkippedFile(rel, "permission denied")
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
            return _read_link(path, real_root, rel, max_bytes)
        return SkippedFile(rel, f"cannot open: {exc.strerror}")
    try:
        return _read_open(fd, rel, max_bytes)
    finally:
        os.close(fd)


def _read_open(fd: int, rel: str, max_bytes: int) -> bytes | SkippedFile:
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return SkippedFile(rel, "a folder (git submodule?)")
        if not stat.S_ISREG(info.st_mode):
            return SkippedFile(rel, "not a regular file")
        if info.st_size > max_bytes:
            return SkippedFile(rel, f"larger than the {max_bytes // 1024} KiB cap ({info.st_size:,} bytes)")
        data = os.read(fd, info.st_size + 1)
        if len(data) > info.st_size:  # grew since fstat: read on up to the cap
            chunks = [data]
            while chunks[-1] and sum(map(len, chunks)) <= max_bytes:
                chunks.append(os.read(fd, max_bytes + 1))
            data = b"".join(chunks)
    except OSError as exc:
        return SkippedFile(rel, f"cannot read: {exc.strerror}")
    if len(data) > max_bytes:
        return SkippedFile(rel, f"larger than the {max_bytes // 1024} KiB cap")
    return data


def _read_link(path: str, real_root: Path, rel: str, max_bytes: int) -> bytes | SkippedFile:
    """A symbolic link is followed only when it ends at a file inside the repository."""
    try:
        target = Path(path).resolve(strict=True)
    except RuntimeError:
        return SkippedFile(rel, "symbolic link loop")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return SkippedFile(rel, "symbolic link loop")
        return SkippedFile(rel, "broken symbolic link")
    if not target.is_relative_to(real_root):
        return SkippedFile(rel, "symbolic link leaves the repository")
    try:
        fd = os.open(target, _OPEN_FLAGS)
    except PermissionError:
        return SkippedFile(rel, "permission denied")
    except OSError as exc:
        return SkippedFile(rel, f"cannot open link target: {exc.strerror}")
    try:
        return _read_open(fd, rel, max_bytes)
    finally:
        os.close(fd)


def _read_ahead(root: str, real_root: Path, paths: list[str], max_bytes: int
                ) -> Iterator[tuple[str, bytes | SkippedFile]]:
    """Read files in order on a helper thread while the caller parses the previous ones.

    File reads release the GIL, so on two cores reading and parsing overlap. Work is handed over in
    chunks so the per-task cost of the executor stays negligible; at most two chunks are in flight.
    """

    def read_chunk(chunk: list[str]) -> list[tuple[str, bytes | SkippedFile]]:
        return [(rel, _read(root, real_root, rel, max_bytes)) for rel in chunk]

    chunks = [paths[i : i + _READ_CHUNK] for i in range(0, len(paths), _READ_CHUNK)]
    if len(chunks) <= 1:
        yield from (item for chunk in chunks for item in read_chunk(chunk))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discovery-read") as pool:
        pending = [pool.submit(read_chunk, chunk) for chunk in chunks[:2]]
        for number in range(len(chunks)):
            results = pending[number].result()
            if number + 2 < len(chunks):
                pending.append(pool.submit(read_chunk, chunks[number + 2]))
            yield from results


def _git_state(root: Path) -> tuple[RepoInfo, list[str] | None]:
    """Ask git for the status and the file list at the same time (two processes, two cores)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discovery-git") as pool:
        status = pool.submit(repo_info, root)
        listed = list_git_files(root)
        info = status.result()
    return info, (listed if info.is_git else None)


def build_index(
    root: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: Iterable[str] = (),
    cache: ParseCache | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    parse: bool = True,
    config: Config | None = None,
) -> InfraIndex:
    """Discover, classify and parse every file under `root` (see the module docstring).

    `config` (the project's settings) supplies the size cap and the excluded paths, so every front end
    indexes a repository the same way.

    `parse=False` lists and classifies only — by name, and YAML by its top-level keys; files whose name
    decides their kind are not even read (size and hash stay unknown) — a small fraction of the work:
    the app paints its tree from that, then runs the full discovery.
    """
    if config is not None:
        max_bytes, exclude = config.max_file_size, config.exclude
    root = Path(root).expanduser()
    if not root.exists():
        raise DiscoveryError(f"{root}: no such file or directory")
    if not root.is_dir():
        raise DiscoveryError(f"{root}: not a folder")
    root = root.absolute()
    real_root = root.resolve()
    info, listed = _git_state(root)
    index = InfraIndex(repo=info)
    if listed is None:
        listed = _walk(root, index.skipped)
    patterns = tuple(exclude)
    if patterns:
        from fnmatch import fnmatch

        listed = [p for p in listed if not any(fnmatch(p, pat) for pat in patterns)]
    if not parse:
        listed = _list_by_name(index, listed)
    total = len(listed)
    progress(Progress("discover", 0, total))
    cache = cache if cache is not None else ParseCache()
    root_text = str(root)
    pending_yaml: list[_PendingYaml] = []
    with paused_gc():
        for number, (rel, data) in enumerate(_read_ahead(root_text, real_root, listed, max_bytes), 1):
            if cancel is not None and number % 256 == 0:
                cancel.check()
            if number % 500 == 0:
                progress(Progress("discover", number, total, rel))
            if isinstance(data, SkippedFile):
                index.skipped.append(data)
                continue
            if _is_binary(data):
                # Binary files are common and expected; only infra-looking ones deserve a mention.
                if kind_from_name(rel) not in (FileKind.OTHER, None) or rel.endswith((".yml", ".yaml")):
                    index.skipped.append(SkippedFile(rel, "binary content (NUL bytes)"))
                continue
            sha = hashlib.sha256(data).hexdigest()
            kind = kind_from_name(rel, data[:128])
            text, note = _decode(data)
            if kind is None and not parse:
                kind = kind_from_yaml_text(rel, text)
            if kind is None:
                file = InfraFile(rel, FileKind.YAML, len(data), sha, note)
                pending_yaml.append(_PendingYaml(file, text, might_be_infra_yaml(rel, text)))
                continue
            file = InfraFile(rel, kind, len(data), sha, note)
            index.files[rel] = file
            if parse:
                index.parsed[rel] = _parse_cached(file, text, cache)
        if cancel is not None:
            cancel.check()
        _classify_yaml(index, pending_yaml, cache)
    progress(Progress("discover", total, total))
    return index


def _list_by_name(index: InfraIndex, listed: list[str]) -> list[str]:
    """Quick listing: files whose kind their name decides are recorded unread (size and hash unknown,
    left 0 and ""); only YAML and extension-less files (a shebang may make them scripts) are read."""
    to_read = []
    for rel in listed:
        kind = kind_from_name(rel)
        if kind is None or (kind is FileKind.OTHER and "." not in rel.rsplit("/", 1)[-1]):
            to_read.append(rel)
        else:
            index.files[rel] = InfraFile(rel, kind, 0, "")
    return to_read


def _parse_cached(file: InfraFile, text: str, cache: ParseCache) -> ParsedFile:
    parsed = cache.get(file)
    if parsed is None:
        parsed = parse_text(file, text)
        cache.put(parsed)
    return parsed


@dataclass(slots=True)
class _PendingYaml:
    """A YAML file whose kind depends on its content (and on which GitLab files include it)."""

    file: InfraFile
    text: str
    candidate: bool  # worth composing to classify; others stay plain YAML unless a GitLab file includes them
    kind: FileKind = FileKind.YAML
    docs: list[Node] | None = None
    problem: ParseProblem | None = None


def _compose(item: _PendingYaml, cache: ParseCache) -> None:
    """Compose once: reuse the cached parse of identical content at the same path if there is one."""
    cached = cache.get_content(item.file.sha256, item.file.path)
    if cached is not None:
        item.docs, item.problem = list(cached.docs), cached.problem
    else:
        item.docs, item.problem = compose_documents(item.text)


def _classify_yaml(index: InfraIndex, pending: list[_PendingYaml], cache: ParseCache) -> None:
    """Compose each candidate YAML file once, classify it by content, keep the parse."""
    includes: set[str] = set()
    for item in pending:
        if not item.candidate:
            continue
        _compose(item, cache)
        docs = item.docs or []
        item.kind = kind_from_yaml(item.file.path, docs)
        if item.problem is not None and item.kind is FileKind.YAML:
            # Unparseable: trust the name so the parse error is reported under the right kind.
            item.kind = _kind_for_broken_yaml(item.file.path)
        if item.kind is FileKind.GITLAB_CI:
            includes.update(gitlab_local_includes(docs))
    for item in pending:
        if item.file.path in includes and item.kind in (FileKind.YAML, FileKind.COMPOSE):
            item.kind = FileKind.GITLAB_CI
        file = replace(item.file, kind=item.kind)
        index.files[file.path] = file
        parsed = cache.get(file)
        if parsed is None:
            if item.docs is None:
                _compose(item, cache)
            parsed = parse_text(file, item.text, docs=item.docs, problem=item.problem)
            cache.put(parsed)
        index.parsed[file.path] = parsed


def _kind_for_broken_yaml(path: str) -> FileKind:
    name = path.rsplit("/", 1)[-1].lower()
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return FileKind.GITLAB_CI
    if path.startswith(".github/workflows/"):
        return FileKind.GHA_WORKFLOW
    if name in ("action.yml", "action.yaml"):
        return FileKind.GHA_ACTION
    if "compose" in name:
        return FileKind.COMPOSE
    if path.startswith(("k8s/", "kubernetes/", "deploy/", "manifests/")) or "/k8s/" in path:
        return FileKind.K8S
    return FileKind.YAML
