"""The security scan: run every applicable rule on every parsed file and build findings.

Contract: `scan_index(index, config)` returns findings sorted by path and line. Rules only yield hits;
this module owns what turns a hit into a `Finding`: the severity (a configured override, else the hit's
own, else the rule's), inline suppressions (ours and the peers' pragmas, matched through rule aliases),
exclusions, and the stable fingerprint. A rule that crashes on a file becomes a DT-X001 finding on that
file — the scan itself never dies.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import threading
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.discovery import InfraIndex
from core.models import FileKind, Finding, InfraFile, Position, Severity
from core.parsing import ParsedFile, parse_text, paused_gc
from core.progress import CancelToken, Progress, ProgressCallback, no_progress
from core.rules.base import Hit, Rule, ScanContext, registered_rules
from core.secrets.scanner import redact_line

_OUR_PRAGMA = re.compile(r"devops-tui:\s*ignore\[([^\]]*)\]")
_HADOLINT = re.compile(r"hadolint\s+ignore=([A-Z0-9,\s]+)")
_ZIZMOR = re.compile(r"zizmor:\s*ignore\[([^\]]*)\]")
_CHECKOV = re.compile(r"checkov:skip=([A-Z0-9_]+)")
_SECRET_ALLOW = re.compile(r"gitleaks:allow|pragma:\s*allowlist secret")


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """What the user configured: which rules run, at which severity, on which paths."""

    disabled: frozenset[str] = frozenset()
    enabled_only: frozenset[str] = frozenset()
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    min_severity: Severity = Severity.INFO

    def active_rules(self) -> list[Rule]:
        rules = registered_rules().values()
        return [
            r for r in rules
            if r.id not in self.disabled and (not self.enabled_only or r.id in self.enabled_only)
        ]


def _normalise(line: str) -> str:
    return " ".join(line.split())


def fingerprint(rule_id: str, path: str, anchor: str, occurrence: int) -> str:
    """Stable across edits elsewhere: hashes rule, path, the flagged content and its occurrence."""
    raw = f"{rule_id}\0{path}\0{_normalise(anchor)}\0{occurrence}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _scope_line(hit: Hit) -> int | None:
    """First line of the instruction a hit sits in (rules put it in fix_data as `line`)."""
    for key, value in hit.fix_data:
        if key == "line" and value.isdigit():
            return int(value)
    return None


def _suppressed(rule: Rule, parsed: ParsedFile, line: int, scope: int | None = None) -> bool:
    """Inline pragmas on the flagged line or the line above it — or above the instruction it belongs
    to, where hadolint users put `# hadolint ignore=` for a token deep in a continued RUN."""
    numbers = [line, line - 1]
    if scope is not None and scope < line:
        numbers += [scope, scope - 1]
    for number in numbers:
        text = parsed.line(number)
        if "#" not in text and "//" not in text:
            continue
        for pattern in (_OUR_PRAGMA, _ZIZMOR):
            for match in pattern.finditer(text):
                ids = {i.strip() for i in match.group(1).split(",")}
                if rule.id in ids or ids & set(rule.alias_ids) or "*" in ids:
                    return True
        hadolint = _HADOLINT.search(text)
        if hadolint and {i.strip() for i in hadolint.group(1).split(",")} & set(rule.alias_ids):
            return True
        checkov = _CHECKOV.search(text)
        if checkov and checkov.group(1) in rule.alias_ids:
            return True
        if _SECRET_ALLOW.search(text) and _is_secret_rule(rule) and number in (line, scope):
            return True
    return False


def _is_secret_rule(rule: Rule) -> bool:
    """Rules whose flagged line holds a secret: their findings never carry the line as a snippet."""
    return rule.id.startswith("DT-S") or "secret" in rule.tags


def _snippet(rule: Rule, parsed: ParsedFile, line: int) -> str:
    """The flagged line for display, with any secret on it redacted (never the raw value)."""
    if _is_secret_rule(rule):
        return ""
    return redact_line(parsed.line(line).strip()[:200], parsed.path, parsed.kind)


def _crash_finding(rule: Rule, parsed: ParsedFile, exc: BaseException) -> Finding:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    message = (
        f"rule {rule.id} failed on this file ({type(exc).__name__}: {exc}); at {where.name}:{where.lineno}"
    )
    return Finding(
        rule_id="DT-X001",
        severity=Severity.INFO,
        path=parsed.path,
        position=Position(1),
        message=message[:300],
        fingerprint=fingerprint("DT-X001", parsed.path, rule.id, 0),
        kind=parsed.kind,
    )


def _severity(rule: Rule, hit: Hit, override: Severity | None) -> Severity:
    """A configured override wins, then the hit's own severity, then the rule's default (`is None`
    tests, since Severity.INFO is 0)."""
    if override is not None:
        return override
    return rule.severity if hit.severity is None else hit.severity


def scan_file(parsed: ParsedFile, ctx: ScanContext, rules: Iterable[Rule],
              config: ScanConfig | None = None) -> list[Finding]:
    """All findings for one parsed file."""
    config = config or ScanConfig()
    findings: list[Finding] = []
    occurrences: Counter[tuple[str, str]] = Counter()
    for rule in rules:
        if parsed.kind not in rule.kinds:
            continue
        override = config.severity_overrides.get(rule.id)
        if override is not None and override < config.min_severity:
            continue
        try:
            hits: list[Hit] = list(rule.run(parsed, ctx))
        except Exception as exc:  # a broken rule must not take the scan down
            findings.append(_crash_finding(rule, parsed, exc))
            continue
        for hit in hits:
            severity = _severity(rule, hit, override)
            if severity < config.min_severity:
                continue
            if _suppressed(rule, parsed, hit.position.line, _scope_line(hit)):
                continue
            anchor = hit.anchor if hit.anchor is not None else parsed.line(hit.position.line)
            key = (rule.id, _normalise(anchor))
            occurrence = occurrences[key]
            occurrences[key] += 1
            findings.append(
                Finding(
                    rule_id=rule.id,
                    severity=severity,
                    path=parsed.path,
                    position=hit.position,
                    message=hit.message,
                    fingerprint=fingerprint(rule.id, parsed.path, anchor, occurrence),
                    kind=parsed.kind,
                    snippet=_snippet(rule, parsed, hit.position.line),
                    extra=hit.fix_data,
                )
            )
    return findings


#: What forked workers read: set just before the pool forks, so children inherit it without pickling.
_FORK_JOB: tuple[list[ParsedFile], ScanContext, list[Rule], ScanConfig, int] | None = None
_CHUNKS_PER_WORKER = 8
_MIN_FILES_TO_FORK = 400


def _scan_chunk(number: int) -> list[Finding]:
    assert _FORK_JOB is not None
    files, ctx, rules, config, chunks = _FORK_JOB
    found: list[Finding] = []
    for parsed in files[number::chunks]:
        found.extend(scan_file(parsed, ctx, rules, config))
    return found


def _scan_forked(files: list[ParsedFile], ctx: ScanContext, rules: list[Rule], config: ScanConfig,
                 workers: int, progress: ProgressCallback, cancel: CancelToken | None) -> list[Finding]:
    """Scan on several cores: forked children share the parsed files copy-on-write; only findings
    travel back. Only for processes without other threads (the CLI): forking a threaded process can
    inherit a lock some other thread held."""
    global _FORK_JOB
    chunks = workers * _CHUNKS_PER_WORKER
    _FORK_JOB = (files, ctx, rules, config, chunks)
    findings: list[Finding] = []
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for done, part in enumerate(pool.imap_unordered(_scan_chunk, range(chunks)), 1):
                if cancel is not None:
                    cancel.check()
                findings.extend(part)
                progress(Progress("scan", len(files) * done // chunks, len(files)))
    finally:
        _FORK_JOB = None
    return findings


def scan_index(
    index: InfraIndex,
    config: ScanConfig | None = None,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    workers: int = 1,
) -> list[Finding]:
    """Scan every parsed file of `index`; `workers > 1` forks that many processes (CLI only)."""
    from fnmatch import fnmatch

    config = config or ScanConfig()
    rules = config.active_rules()
    ctx = ScanContext(index.root, frozenset(index.files))
    parsed_files = sorted(index.parsed.values(), key=lambda p: p.path)
    if config.exclude:
        parsed_files = [p for p in parsed_files if not any(fnmatch(p.path, x) for x in config.exclude)]
    total = len(parsed_files)
    if (workers > 1 and total >= _MIN_FILES_TO_FORK
            and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1):
        findings = _scan_forked(parsed_files, ctx, rules, config, workers, progress, cancel)
    else:
        findings = []
        with paused_gc():  # rules allocate many short-lived objects; cyclic GC only re-walks the index
            for number, parsed in enumerate(parsed_files, 1):
                if cancel is not None:
                    cancel.check()
                findings.extend(scan_file(parsed, ctx, rules, config))
                if number % 200 == 0 or number == total:
                    progress(Progress("scan", number, total, parsed.path))
    findings.sort(key=lambda f: (f.path, f.position.line, f.position.column, f.rule_id))
    return findings


def scan_text(path: str, text: str, kind: FileKind | None = None, *,
              paths: Iterable[str] = (), root: Path | None = None,
              config: ScanConfig | None = None) -> list[Finding]:
    """Scan one snippet as if it were the file `path` — the workhorse of rule tests.

    The kind is classified from the path (and content, for YAML) unless given. `paths` lists other
    files that exist in the imaginary repository (for rules such as "COPY . . without .dockerignore").
    """
    from core.classify import kind_from_name, kind_from_yaml
    from core.yamlnodes import compose_documents

    docs = None
    problem = None
    if kind is None:
        kind = kind_from_name(path, text.encode()[:128])
        if kind is None:
            docs, problem = compose_documents(text)
            kind = kind_from_yaml(path, docs)
    file = InfraFile(path, kind, len(text.encode()), hashlib.sha256(text.encode()).hexdigest())
    parsed = parse_text(file, text, docs=docs, problem=problem)
    ctx = ScanContext(root or Path("."), frozenset({path, *paths}))
    config = config or ScanConfig()
    return scan_file(parsed, ctx, config.active_rules(), config)
