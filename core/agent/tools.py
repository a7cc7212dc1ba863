"""The agent's tools: read-only views of the repository, and two tools that only *propose*.

Contract: every text a tool returns passes the secret masker (values become `«SECRET_n»`, one numbering
per session), and every path goes through the patch engine's path gate. `propose_edit` maps
placeholders back to values only inside `old_str` matching, and refuses a placeholder in `new_str` that
its `old_str` did not contain — so the model can keep a secret where it stands but never move one.
Proposals go to the `reviewer` (the review screen, or the headless writer); the tool result is what the
reviewer reports ("applied hunks 1 and 3 of 3; hunk 2 rejected").
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.agent.events import ReviewOutcome
from core.discovery import InfraIndex
from core.dupes.model import DuplicateCluster
from core.models import Finding, Severity
from core.patching import PathRefused, Producer, Proposal, Safety, check_path, make_create, make_modify
from core.patching.diff import file_diffs
from core.rules.base import registered_rules
from core.secrets.scanner import PLACEHOLDER_PATTERN, SecretMasker
from prompts import load

MAX_READ_LINES = 800
MAX_SEARCH_RESULTS = 100
MAX_RESULT_CHARS = 60_000

Reviewer = Callable[[Proposal], Awaitable[ReviewOutcome]]


@dataclass(frozen=True, slots=True)
class ToolResult:
    content: str
    is_error: bool = False
    proposal: Proposal | None = None


class ToolError(Exception):
    """A precise, model-facing explanation of why a tool call failed."""


_SCHEMAS: dict[str, dict[str, Any]] = {
    "list_files": {
        "type": "object",
        "properties": {
            "glob": {"type": "string", "description": "fnmatch pattern on the repo-relative path"},
            "kind": {"type": "string", "description": "only files of this kind"},
            "infra_only": {"type": "boolean", "default": True},
        },
    },
    "read_file": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "start_line": {"type": "integer", "minimum": 1, "default": 1},
            "max_lines": {"type": "integer", "minimum": 1, "maximum": MAX_READ_LINES, "default": 400},
        },
        "required": ["path"],
    },
    "search": {
        "type": "object",
        "properties": {
            "pattern": {"type": "string"},
            "glob": {"type": "string"},
            "case_sensitive": {"type": "boolean", "default": False},
        },
        "required": ["pattern"],
    },
    "get_findings": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "min_severity": {"type": "string", "enum": [s.label for s in Severity]},
            "rule": {"type": "string"},
        },
    },
    "get_duplicates": {"type": "object", "properties": {"limit": {"type": "integer", "default": 10}}},
    "get_layer_report": {"type": "object", "properties": {}},
    "propose_edit": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "file_hash": {"type": "string", "description": "sha256 from read_file"},
            "title": {"type": "string", "description": "one line: what the change does"},
            "rationale": {"type": "string", "description": "why, for the reviewer"},
            "edits": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"old_str": {"type": "string"}, "new_str": {"type": "string"}},
                    "required": ["old_str", "new_str"],
                },
            },
        },
        "required": ["path", "file_hash", "title", "edits"],
    },
    "propose_new_file": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "content": {"type": "string"},
            "title": {"type": "string"},
            "rationale": {"type": "string"},
        },
        "required": ["path", "content", "title"],
    },
}
TOOL_NAMES = tuple(_SCHEMAS)


def tool_definitions() -> list[dict[str, Any]]:
    """Tool definitions for the Messages API; descriptions come from prompts/tools/*.md."""
    return [
        {"name": name, "description": load(f"tools/{name}.md").strip(), "input_schema": schema}
        for name, schema in _SCHEMAS.items()
    ]


def _summary(name: str, args: dict[str, Any]) -> str:
    detail = args.get("path") or args.get("pattern") or args.get("glob") or args.get("rule") or ""
    return f"{name} {detail}".strip()


class RepoTools:
    """Executes tool calls against one repository's index, findings and duplicate groups."""

    def __init__(
        self,
        index: InfraIndex,
        *,
        findings: Callable[[], list[Finding]] = list,
        duplicates: Callable[[], list[DuplicateCluster]] = list,
        layer_report: Callable[[], str | None] = lambda: None,
        reviewer: Reviewer | None = None,
        masker: SecretMasker | None = None,
    ) -> None:
        self.index = index
        self.root = index.root
        self._findings = findings
        self._duplicates = duplicates
        self._layer_report = layer_report
        self._reviewer = reviewer
        self.masker = masker or SecretMasker()
        self.proposals: list[Proposal] = []

    def mask(self, text: str, path: str = "") -> str:
        """Everything the model sees goes through here."""
        return self.masker.mask(text, path).text

    @staticmethod
    def summary(name: str, args: dict[str, Any]) -> str:
        return _summary(name, args)

    async def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool; failures come back as `is_error` results the model can act on."""
        handler = getattr(self, f"_tool_{name}", None)
        if handler is None or name not in _SCHEMAS:
            return ToolResult(f"unknown tool {name!r}; available: {', '.join(TOOL_NAMES)}", True)
        try:
            result = await handler(args) if name.startswith("propose") else handler(args)
        except ToolError as exc:
            return ToolResult(self.mask(str(exc)), True)
        except (KeyError, TypeError, ValueError) as exc:
            return ToolResult(f"bad arguments for {name}: {exc}", True)
        if len(result.content) > MAX_RESULT_CHARS:
            result = ToolResult(result.content[:MAX_RESULT_CHARS] + "\n[… truncated]", result.is_error,
                                result.proposal)
        return result

    # --- read-only tools ------------------------------------------------------------------------------

    def _text_of(self, path: str) -> str:
        try:
            target = check_path(self.root, path)
        except PathRefused as exc:
            raise ToolError(f"refused: {exc}") from None
        rel = target.relative_to(self.root.resolve()).as_posix()
        parsed = self.index.parsed.get(rel)
        if parsed is not None:
            return parsed.text
        skipped = next((s for s in self.index.skipped if s.path == rel), None)
        if skipped is not None:
            raise ToolError(f"{rel} cannot be read: {skipped.reason}")
        raise ToolError(f"{path}: no such file in the repository (use list_files)")

    def _tool_list_files(self, args: dict[str, Any]) -> ToolResult:
        pattern = args.get("glob")
        kind = args.get("kind")
        infra_only = args.get("infra_only", True)
        counts: dict[str, int] = {}
        for finding in self._findings():
            counts[finding.path] = counts.get(finding.path, 0) + 1
        rows = []
        for file in sorted(self.index.files.values(), key=lambda f: f.path):
            if infra_only and not file.kind.is_infra:
                continue
            if kind and file.kind.value != kind:
                continue
            if pattern and not fnmatch.fnmatch(file.path, pattern):
                continue
            status = self.index.repo.status(file.path).value
            rows.append(f"{file.path}\t{file.kind.value}\t{status}\t{counts.get(file.path, 0)} findings")
        if not rows:
            return ToolResult("no files match")
        return ToolResult(self.mask("path\tkind\tgit\tfindings\n" + "\n".join(rows)))

    def _tool_read_file(self, args: dict[str, Any]) -> ToolResult:
        path = str(args["path"])
        text = self._text_of(path)
        start = max(1, int(args.get("start_line", 1)))
        count = min(MAX_READ_LINES, max(1, int(args.get("max_lines", 400))))
        lines = text.splitlines()
        chunk = lines[start - 1 : start - 1 + count]
        digest = hashlib.sha256((self.root / path).read_bytes()).hexdigest()
        masked = self.masker.mask("\n".join(chunk), path).text.split("\n") if chunk else []
        body = "\n".join(f"{start + i:>5}  {line}" for i, line in enumerate(masked))
        left = len(lines) - (start - 1 + count)
        more = f"\n[… {left} more lines]" if left > 0 else ""
        return ToolResult(f"path: {path}\nsha256: {digest}\nlines: {len(lines)}\n{body}{more}")

    def _tool_search(self, args: dict[str, Any]) -> ToolResult:
        flags = 0 if args.get("case_sensitive") else re.IGNORECASE
        try:
            regex = re.compile(str(args["pattern"]), flags)
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        pattern = args.get("glob")
        hits: list[str] = []
        for path in sorted(self.index.parsed):
            if pattern and not fnmatch.fnmatch(path, pattern):
                continue
            parsed = self.index.parsed[path]
            for number, line in enumerate(parsed.lines, 1):
                if regex.search(line):
                    hits.append(f"{path}:{number}: {self.mask(line, path).strip()[:200]}")
                    if len(hits) >= MAX_SEARCH_RESULTS:
                        return ToolResult("\n".join(hits) + "\n[… more matches; narrow the search]")
        return ToolResult("\n".join(hits) if hits else "no matches")

    def _tool_get_findings(self, args: dict[str, Any]) -> ToolResult:
        findings = self._findings()
        if args.get("path"):
            findings = [f for f in findings if f.path == args["path"]]
        if args.get("min_severity"):
            level = Severity.parse(str(args["min_severity"]))
            findings = [f for f in findings if f.severity >= level]
        if args.get("rule"):
            findings = [f for f in findings if f.rule_id == str(args["rule"]).upper()]
        if not findings:
            return ToolResult("no findings match")
        rules = registered_rules()
        lines = [f"{f.path}:{f.position.line}:{f.position.column} {f.severity.label.upper()} {f.rule_id} "
                 f"{f.message}" for f in findings[:300]]
        cited = sorted({f.rule_id for f in findings} & set(rules))
        helps = [f"{rid}: {rules[rid].title}. {rules[rid].help}" for rid in cited]
        text = "\n".join(lines) + "\n\nRules:\n" + "\n".join(helps)
        return ToolResult(self.mask(text))

    def _tool_get_duplicates(self, args: dict[str, Any]) -> ToolResult:
        from core.dupes.report import render_text

        clusters = self._duplicates()[: int(args.get("limit", 10))]
        return ToolResult(self.mask(render_text(clusters)))

    def _tool_get_layer_report(self, args: dict[str, Any]) -> ToolResult:
        report = self._layer_report()
        if report is None:
            return ToolResult("no layer report is loaded; ask the user to open the Layers screen (key L) "
                              "or to run `devops-tui layers IMAGE`")
        return ToolResult(self.mask(report))

    # --- proposing tools ------------------------------------------------------------------------------

    def _unmask_old(self, old: str) -> str:
        return self.masker.unmask(old)

    def _check_new(self, old: str, new: str) -> str:
        allowed = set(PLACEHOLDER_PATTERN.findall(old))
        used = set(PLACEHOLDER_PATTERN.findall(new))
        if used - allowed:
            names = ", ".join(f"«SECRET_{n}»" for n in sorted(used - allowed))
            raise ToolError(f"refused: new_str introduces {names}, which its old_str does not contain; "
                            "secrets may stay where they are but never be moved or copied")
        return self.masker.unmask(new)

    async def _tool_propose_edit(self, args: dict[str, Any]) -> ToolResult:
        path = str(args["path"])
        text = self._text_of(path)
        current = hashlib.sha256((self.root / path).read_bytes()).hexdigest()
        if str(args["file_hash"]).strip() != current:
            raise ToolError(f"{path} changed since you read it (sha256 is now {current}); read it again")
        edits = args["edits"]
        if not isinstance(edits, list) or not edits:
            raise ToolError("edits must be a non-empty list of {old_str, new_str}")
        new_text = text
        for number, edit in enumerate(edits, 1):
            old = self._unmask_old(str(edit["old_str"]))
            new = self._check_new(str(edit["old_str"]), str(edit["new_str"]))
            if not old:
                raise ToolError(f"edit {number}: old_str is empty; use propose_new_file for new files")
            count = new_text.count(old)
            if count == 0:
                raise ToolError(f"edit {number}: old_str not found in {path} (after earlier edits); "
                                "copy it exactly from read_file, without the line-number prefix")
            if count > 1:
                lines = [new_text[: m.start()].count("\n") + 1 for m in re.finditer(re.escape(old), new_text)]
                raise ToolError(f"edit {number}: old_str matches {count} times (lines "
                                f"{', '.join(map(str, lines[:10]))}); include more surrounding lines")
            new_text = new_text.replace(old, new, 1)
        if new_text == text:
            raise ToolError("the edits change nothing")
        try:
            edit = make_modify(self.root, path, new_text)
        except PathRefused as exc:
            raise ToolError(f"refused: {exc}") from None
        return await self._offer(args, (edit,))

    async def _tool_propose_new_file(self, args: dict[str, Any]) -> ToolResult:
        path = str(args["path"])
        content = str(args["content"])
        if PLACEHOLDER_PATTERN.search(content):
            raise ToolError("refused: a new file may not contain secret placeholders")
        try:
            edit = make_create(self.root, path, content)
        except PathRefused as exc:
            raise ToolError(f"refused: {exc}") from None
        return await self._offer(args, (edit,))

    async def _offer(self, args: dict[str, Any], edits: tuple[Any, ...]) -> ToolResult:
        proposal = Proposal(
            title=str(args.get("title") or "Agent proposal")[:200],
            rationale=str(args.get("rationale") or ""),
            producer=Producer.AGENT,
            edits=edits,
            safety=Safety.REVIEW,
        )
        self.proposals.append(proposal)
        hunks = sum(len(d.hunks) for d in file_diffs(proposal, self.root))
        if self._reviewer is None:
            return ToolResult(f"proposal recorded ({hunks} hunk(s)); nothing applied (no reviewer)",
                              proposal=proposal)
        outcome = await self._reviewer(proposal)
        if not outcome.total_hunks:
            outcome.total_hunks = hunks
        return ToolResult(outcome.describe(), proposal=proposal)


