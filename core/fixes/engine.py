"""Turn findings into quick-fix proposals: one finding (`fix_one`) or all of a selection (`plan_fixes`).

Contract: a fix is computed on text by the rule's fixer, then checked before it is kept — only the lines
the fixer declared may differ (`assert_only_span_changed`), the file must still parse and keep its kind
(`validate_edit`), and a rescan of the edited text must show fewer findings of that rule. Fixes of one
file are chained: each is computed on the text the previous one produced, with positions from a fresh
scan of that text, so any number of fixes on one file end up in one edit without conflicts. Side files
(`.gitignore`, `.env.example`, `.dockerignore`) live in a `Workspace` overlay that later fixes see. The
result is one `Proposal` made against the bytes on disk; a file that changed since it was scanned is
skipped, never overwritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.classify import kind_from_yaml
from core.discovery import InfraIndex
from core.fixes.model import CannotFix, SideFile, TextFix
from core.fixes.registry import Fixer, registered_fixers
from core.ignore import IgnoreRules
from core.models import Finding
from core.parsing import ParsedFile, parse_text
from core.patching.gate import PathRefused, check_path
from core.patching.proposal import FileEdit, Producer, Proposal, Safety
from core.patching.textedit import (
    EditCheckFailed,
    assert_only_span_changed,
    decode,
    encode,
    make_create,
    make_modify,
)
from core.patching.validate import validate_edit
from core.rules.base import Rule, ScanContext, registered_rules
from core.scan import scan_file


@dataclass(frozen=True, slots=True)
class Skipped:
    """A finding the plan does not fix, and why (shown by `devops-tui fix`)."""

    path: str
    rule_id: str
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class FixPlan:
    """The combined proposal (None when nothing could be fixed), what it fixes and what it skipped."""

    proposal: Proposal | None
    fixed: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()


class Workspace:
    """Side files as the fixes so far leave them: an overlay over the repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.contents: dict[str, str] = {}
        self._disk: dict[str, str | None] = {}
        self._created: set[str] = set()
        self._paths: tuple[int, frozenset[str], frozenset[str]] | None = None  # memo of `paths`

    def on_disk(self, rel: str) -> str | None:
        """The file's text on disk, or None when it does not exist."""
        if rel not in self._disk:
            try:
                target = check_path(self.root, rel)
            except PathRefused as exc:
                raise CannotFix(str(exc)) from None
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise CannotFix(f"{rel} is not a regular file")
            try:
                self._disk[rel] = decode(target.read_bytes())
            except FileNotFoundError:
                self._disk[rel] = None
        return self._disk[rel]

    def read(self, rel: str, pending: dict[str, str] | None = None) -> str | None:
        if pending and rel in pending:
            return pending[rel]
        return self.contents[rel] if rel in self.contents else self.on_disk(rel)

    def plan(self, sides: Iterable[SideFile]) -> dict[str, str]:
        """New contents of the side files these declarations change (nothing is kept yet)."""
        out: dict[str, str] = {}
        for side in sides:
            current = self.read(side.path, out)
            new = self._ensure(side, current, out)
            if new != current and new is not None:
                out[side.path] = new
        return out

    def keep(self, planned: dict[str, str]) -> None:
        """Make planned side-file contents part of the workspace."""
        for rel, text in planned.items():
            self.contents[rel] = text
            if self.on_disk(rel) is None and rel not in self._created:
                self._created.add(rel)
                self._paths = None

    def paths(self, base: frozenset[str], pending: dict[str, str]) -> frozenset[str]:
        """`base` plus the files the fixes create, for rules that check whether a file exists."""
        new = {p for p in pending if p not in self._created and self.on_disk(p) is None}
        if not self._created and not new:
            return base
        if self._paths is None or self._paths[0] != id(base):
            self._paths = (id(base), base, base | self._created)
        return self._paths[2] | new if new else self._paths[2]

    def edits(self) -> list[FileEdit]:
        out = []
        for rel, text in sorted(self.contents.items()):
            if self.on_disk(rel) is None:
                out.append(make_create(self.root, rel, text))
            elif text != self.on_disk(rel):
                out.append(make_modify(self.root, rel, text))
        return out

    def _present(self, side: SideFile, line: str, current: str, pending: dict[str, str]) -> bool:
        existing = [x.strip() for x in current.splitlines()]
        if side.match == "key":
            key = line.split("=", 1)[0].strip()
            return any(x.split("=", 1)[0].strip().removeprefix("export ").strip() == key for x in existing)
        if side.match == "ignored":
            return self._ignored(line, {**pending, side.path: current})
        return line.strip() in existing

    def _ignored(self, probe: str, pending: dict[str, str]) -> bool:
        """Whether git would ignore repo-relative `probe`, given the .gitignore files as they will be."""
        rules = IgnoreRules()
        parts = probe.split("/")[:-1]
        for depth in range(len(parts) + 1):
            base = "/".join(parts[:depth])
            text = self.read(f"{base}/.gitignore" if base else ".gitignore", pending)
            if text:
                rules.add_file(base, text)
        return rules.ignored(probe, False)

    def _ensure(self, side: SideFile, current: str | None, pending: dict[str, str]) -> str | None:
        if side.match == "ignored":
            # `lines` holds (probe path, pattern) pairs flattened: the probe decides, the pattern is written.
            probe, pattern = side.lines
            if current is not None and self._present(side, probe, current, pending):
                return current
            if current is None and self._ignored(probe, pending):
                return None
            return _append(current, side.header, [pattern])
        if current is None:
            return _append(None, side.header, list(side.lines))
        missing = [x for x in side.lines if not self._present(side, x, current, pending)]
        return _append(current, "", missing) if missing else current


def _append(current: str | None, header: str, lines: list[str]) -> str:
    if current is None:
        return header + "".join(f"{x}\n" for x in lines)
    if not lines:
        return current
    eol = "\r\n" if "\r\n" in current else "\n"
    if current and not current.endswith("\n"):
        current += eol
    return current + "".join(f"{x}{eol}" for x in lines)


def _reparse(parsed: ParsedFile, text: str) -> ParsedFile:
    data = text.encode("utf-8", "surrogateescape")
    file = replace(parsed.file, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return parse_text(file, text)


def _breaks(old: ParsedFile, new: ParsedFile) -> str | None:
    """Why the edited parse is worse than the old one (a new parse problem, another kind), or None.

    The same checks as the patch engine's `validate_edit`, on the parses already made, so a chain of
    fixes composes each text once; `validate_edit` still runs on the final text of every file.
    """
    if new.problem is not None and old.problem is None:
        return f"line {new.problem.line}: {new.problem.message}"
    if old.dockerfile is not None and new.dockerfile is not None:
        known = {p.message for p in old.dockerfile.problems}
        fresh = [p for p in new.dockerfile.problems if p.message not in known]
        return f"line {fresh[0].line}: {fresh[0].message}" if fresh else None
    if old.kind.is_yaml and old.problem is None and kind_from_yaml(old.path, list(new.docs)) is not old.kind:
        return f"the edit would stop the file being {old.kind}"
    return None


def _fresh(parsed: ParsedFile, root: Path) -> str | None:
    """Why the file cannot be fixed from this parse (changed on disk, not UTF-8), or None."""
    if parsed.file.decode_note:
        return f"{parsed.path} is not valid UTF-8; not edited"
    try:
        data = check_path(root, parsed.path).read_bytes()
    except (PathRefused, OSError) as exc:
        return f"{parsed.path} cannot be read: {exc}"
    if hashlib.sha256(data).hexdigest() != parsed.file.sha256:
        return f"{parsed.path} changed since it was scanned; scan again"
    return None


def _count(findings: Iterable[Finding], rule_id: str) -> int:
    return sum(1 for f in findings if f.rule_id == rule_id)


@dataclass(slots=True)
class _FileRun:
    """One file being fixed: its evolving parse and the findings of the selected rules on it."""

    parsed: ParsedFile
    rules: list[Rule]
    ctx_paths: frozenset[str]
    findings: list[Finding] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    rationales: list[str] = field(default_factory=list)
    safety: Safety = Safety.SAFE

    def scan(self, parsed: ParsedFile, ws: Workspace, pending: dict[str, str]) -> list[Finding]:
        return scan_file(parsed, ScanContext(ws.root, ws.paths(self.ctx_paths, pending)), self.rules)


def _attempt(fixer: Fixer, finding: Finding, run: _FileRun, ws: Workspace) -> tuple[ParsedFile, list[Finding],
                                                                                   dict[str, str], TextFix]:
    """Compute and check one fix on the run's current text; raise CannotFix when it does not hold."""
    parsed = run.parsed
    try:
        fix = fixer.compute(finding, parsed, ws.root)
    except CannotFix:
        raise
    except (ValueError, IndexError, KeyError) as exc:  # a fixer's bad assumption must not end the plan
        raise CannotFix(f"the fixer failed: {type(exc).__name__}: {exc}") from None
    if fix is None:
        raise CannotFix("no mechanical fix for this instance")
    pending = ws.plan(fix.side_files)
    if fix.text == parsed.text and not pending:
        raise CannotFix("the fix changes nothing")
    try:
        assert_only_span_changed(parsed.text, fix.text, fix.spans)
    except EditCheckFailed as exc:
        raise CannotFix(f"the fix was refused: {exc}") from None
    new_parsed = _reparse(parsed, fix.text)
    broken = _breaks(parsed, new_parsed)
    if broken:
        raise CannotFix(f"the fix was refused: {broken}")
    after = run.scan(new_parsed, ws, pending)
    if _count(after, finding.rule_id) >= _count(run.findings, finding.rule_id):
        raise CannotFix("the fix did not remove the finding")
    return new_parsed, after, pending, fix


def _keep(run: _FileRun, fixer: Fixer, result: tuple[ParsedFile, list[Finding], dict[str, str], TextFix],
          ws: Workspace) -> None:
    new_parsed, after, pending, fix = result
    run.parsed, run.findings = new_parsed, after
    ws.keep(pending)
    run.titles.append(fix.title)
    if fix.rationale not in run.rationales:
        run.rationales.append(fix.rationale)
    if _safety(fixer, fix) is Safety.REVIEW:
        run.safety = Safety.REVIEW


def _safety(fixer: Fixer, fix: TextFix) -> Safety:
    if fixer.safety is Safety.REVIEW or fix.safety is Safety.REVIEW:
        return Safety.REVIEW
    return Safety.SAFE


def _proposal(runs: list[_FileRun], ws: Workspace, root: Path, fixed: list[Finding]) -> Proposal | None:
    edits: list[FileEdit] = []
    for run in runs:
        original = ws.on_disk(run.parsed.path)
        if original is not None and run.parsed.text != original:
            problems = validate_edit(run.parsed.path, encode(original), encode(run.parsed.text))
            if problems:  # never expected: each fix was checked; refuse the file rather than break it
                raise CannotFix(problems[0])
            edits.append(make_modify(root, run.parsed.path, run.parsed.text))
    edits.extend(ws.edits())
    if not edits:
        return None
    titles = [t for run in runs for t in run.titles]
    rule_ids = tuple(dict.fromkeys(f.rule_id for f in fixed))
    if len(titles) == 1:
        title = titles[0]
    else:
        files = {r.parsed.path for r in runs if r.titles}
        where = next(iter(files)) if len(files) == 1 else f"{len(files)} files"
        title = f"Fix {len(fixed)} findings ({', '.join(rule_ids)}) in {where}"
    rationale = "\n".join(dict.fromkeys(x for run in runs for x in run.rationales))
    safety = Safety.REVIEW if any(r.safety is Safety.REVIEW for r in runs if r.titles) else Safety.SAFE
    return Proposal(title, rationale, Producer.QUICK_FIX, tuple(edits),
                    tuple(dict.fromkeys(f.fingerprint for f in fixed)), rule_ids, safety)


def fix_one(fixer: Fixer, finding: Finding, parsed: ParsedFile, root: Path,
            paths: Iterable[str] = ()) -> Proposal | None:
    """The Proposal fixing one finding of `parsed` (which must match the file on disk), or None.

    `paths` lists the repository's files, for rules that look beyond their own file.
    """
    rule = registered_rules().get(finding.rule_id)
    if rule is None or _fresh(parsed, root) is not None:
        return None
    ws = Workspace(root)
    run = _FileRun(parsed, [rule], frozenset({parsed.path, *paths}))
    run.findings = run.scan(parsed, ws, {})
    try:
        result = _attempt(fixer, finding, run, ws)
    except CannotFix:
        return None
    _keep(run, fixer, result, ws)
    try:
        return _proposal([run], ws, root, [finding])
    except (CannotFix, PathRefused):
        return None


def fix_for(finding: Finding, index: InfraIndex) -> Proposal | None:
    """The quick fix of one finding, or None when its rule has no fixer or this instance cannot be fixed."""
    fixer = registered_fixers().get(finding.rule_id)
    parsed = index.parsed.get(finding.path)
    if fixer is None or parsed is None:
        return None
    return fix_one(fixer, finding, parsed, index.root, index.files)


def _selected(rule: str | Iterable[str] | None) -> frozenset[str] | None:
    if rule is None:
        return None
    return frozenset({rule} if isinstance(rule, str) else rule)


def _in_path(rel: str, path: str | None) -> bool:
    if path is None or path in ("", "."):
        return True
    path = path.strip("/")
    return rel == path or rel.startswith(path + "/")


def plan_fixes(findings: Iterable[Finding], index: InfraIndex, rule: str | Iterable[str] | None = None,
               path: str | None = None, safe_only: bool = False) -> FixPlan:
    """Fix every selected finding: all instances of the selected rules in the selected files.

    `rule` is one rule ID or several (None: every fixable rule with findings); `path` a file or folder
    (repo-relative; None: the whole repository). With `safe_only`, fixes needing review are skipped.
    """
    fixers = registered_fixers()
    rules = registered_rules()
    chosen = _selected(rule)
    wanted: dict[str, set[str]] = {}
    skipped: list[Skipped] = []
    selected: list[Finding] = []
    for finding in findings:
        if chosen is not None and finding.rule_id not in chosen:
            continue
        if not _in_path(finding.path, path) or finding.rule_id not in fixers:
            continue
        if safe_only and fixers[finding.rule_id].safety is Safety.REVIEW:
            skipped.append(Skipped(finding.path, finding.rule_id, finding.line, "needs review (--safe-only)"))
            continue
        wanted.setdefault(finding.path, set()).add(finding.rule_id)
        selected.append(finding)
    ws = Workspace(index.root)
    runs: list[_FileRun] = []
    fixed: list[Finding] = []
    for rel in sorted(wanted):
        done: list[Finding] = []
        parsed = index.parsed.get(rel)
        problem = _fresh(parsed, index.root) if parsed is not None else f"{rel} is not in the index"
        if parsed is None or problem is not None:
            skipped.extend(Skipped(rel, r, 0, problem or "") for r in sorted(wanted[rel]))
            continue
        run = _FileRun(parsed, [rules[r] for r in sorted(wanted[rel])], frozenset(index.files))
        run.findings = run.scan(parsed, ws, {})
        _fix_file(run, fixers, ws, safe_only, done, skipped)
        runs.append(run)
        # Report the scanned findings that are gone (their fingerprints, not the rescans', which shift
        # when identical lines are fixed one by one).
        left = {(f.rule_id, f.fingerprint) for f in run.findings}
        originals = [f for f in selected if f.path == rel and f.rule_id in wanted[rel]]
        gone = [f for f in originals if (f.rule_id, f.fingerprint) not in left]
        fixed.extend(gone if len(gone) == len(done) else done)
    try:
        proposal = _proposal(runs, ws, index.root, fixed)
    except (PathRefused, CannotFix) as exc:
        skipped.append(Skipped("", "", 0, str(exc)))
        proposal = None
    return FixPlan(proposal, tuple(fixed), tuple(skipped))


def _fix_file(run: _FileRun, fixers: dict[str, Fixer], ws: Workspace, safe_only: bool,
              fixed: list[Finding], skipped: list[Skipped]) -> None:
    """Fix findings of one file one at a time, each on the text the previous fix produced."""
    failed: set[tuple[str, str]] = set()
    budget = 4 * len(run.findings) + 8
    while budget > 0:
        budget -= 1
        todo = [f for f in run.findings if (f.rule_id, f.fingerprint) not in failed]
        if not todo:
            return
        finding = todo[0]
        fixer = fixers[finding.rule_id]
        try:
            result = _attempt(fixer, finding, run, ws)
        except CannotFix as exc:
            failed.add((finding.rule_id, finding.fingerprint))
            skipped.append(Skipped(finding.path, finding.rule_id, finding.line, str(exc)))
            continue
        if safe_only and _safety(fixer, result[3]) is Safety.REVIEW:
            failed.add((finding.rule_id, finding.fingerprint))
            skipped.append(Skipped(finding.path, finding.rule_id, finding.line, "needs review (--safe-only)"))
            continue
        _keep(run, fixer, result, ws)
        fixed.append(finding)


def fix_all(findings: Iterable[Finding], index: InfraIndex, rule: str | Iterable[str] | None = None,
            path: str | None = None, safe_only: bool = False) -> Proposal | None:
    """ONE proposal fixing all selected findings (see `plan_fixes`), or None when nothing can be fixed."""
    return plan_fixes(findings, index, rule, path, safe_only).proposal
