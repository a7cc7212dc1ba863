"""The app's background scans and the one change path from the UI: fix, propose, review, undo, rescan.

Contract: `ScanningMixin` is mixed into `DevopsApp`. After each `IndexBuilt` it starts the security scan
(thread worker, group "scan") and the duplication scan (group "dupes"), cancelling the previous ones.
The scan streams `FindingsScanned` messages (cumulative, mergeable) file chunk by chunk; a file whose
content and repository file set are unchanged reuses its findings, so a rescan after a fix only scans
what changed. Fixes, abstractions and undo are computed in thread workers too; every change goes through
`ReviewScreen`, and an apply or undo is followed by a rescan. An mtime poll of the indexed files (a
stat each, in a worker) rescans when something changed on disk. Nothing here runs a scanner, a parser
or a file write on the UI thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import Worker, WorkerState

from core.config import ConfigError, load_config_or_default
from core.discovery import InfraIndex
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import duplicated_lines_by_file, find_clones
from core.models import Finding, Severity
from core.patching import JournalError, NothingToUndo, Proposal, UndoRefused, undo_last
from core.patching.apply import ApplyResult
from core.progress import Cancelled, CancelToken
from core.rulesel import UnknownRule, scan_config
from core.scan import ScanConfig, scan_index
from tui.commands_palette import PaletteCommand, register_command
from tui.messages import AbstractionRequested, DuplicatesFound, FindingsScanned, FixRequested, ScanFailed
from tui.screens.review import ReviewScreen
from tui.widgets.dupes_panel import DupesPanel
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.rule_panel import quick_fix_status

if TYPE_CHECKING:
    from pathlib import Path

    from tui.screens.main import MainScreen

from core.fixes import fix_for, plan_fixes

FINDINGS_TAB = "tab-findings"
DUPES_TAB = "tab-dupes"
#: Files scanned between two streamed updates (the UI merges undelivered updates anyway).
CHUNK_FILES = 200
#: Seconds between two mtime polls of the indexed files.
POLL_SECONDS = 3.0

OUR_GROUPS = frozenset({"scan", "dupes", "quickfix", "undo", "watch"})

Stamp = dict[str, tuple[int, int]]
# Workers get a fixed `description`: by default Textual repr()s the arguments on the UI thread, and
# the repr of a 10,000-file index takes seconds.


def worst_by_file(findings: Sequence[Finding]) -> dict[str, tuple[int, Severity]]:
    """Finding count and worst severity per path, for the tree badges."""
    counts: dict[str, tuple[int, Severity]] = {}
    for finding in findings:
        count, worst = counts.get(finding.path, (0, Severity.INFO))
        counts[finding.path] = (count + 1, max(worst, finding.severity))
    return counts


def stamp_files(root: Path, paths: Sequence[str]) -> Stamp:
    """(mtime_ns, size) of each path; a missing file gets (-1, -1)."""
    stamps: Stamp = {}
    for rel in paths:
        try:
            st = os.stat(root / rel)
            stamps[rel] = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamps[rel] = (-1, -1)
    return stamps


def _severity_summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    worst = max(f.severity for f in findings)
    at_worst = sum(1 for f in findings if f.severity is worst)
    plural = "s" if len(findings) != 1 else ""
    return f"{len(findings):,} finding{plural} ({at_worst} {worst.label})"


class ScanningMixin:
    """Scan workers, fix/propose/undo workers and the handlers that show their results."""

    root: Path
    index: InfraIndex | None
    main_screen: MainScreen

    def _scan_state_init(self) -> None:
        self.findings: tuple[Finding, ...] = ()
        self.clusters: tuple[DuplicateCluster, ...] = ()
        self.scan_generation = 0
        self.scanning = False
        self.finding_dupes = False
        self._scan_cancel: CancelToken | None = None
        self._dupes_cancel: CancelToken | None = None
        self._finding_cache: dict[tuple[str, str], list[Finding]] = {}
        self._cache_basis: tuple[frozenset[str], ScanConfig] | None = None
        self._stamps: Stamp = {}
        self._stamped: InfraIndex | None = None
        self._scanned: dict[str, InfraIndex | None] = {"scan": None, "dupes": None}
        self._scanning_index: InfraIndex | None = None
        self._scan_note = ""
        self._dupes_note = ""

    @property
    def _app(self) -> Any:
        return self

    @property
    def scans_current(self) -> bool:
        """Whether both scans have finished (or failed) on the current index (True before any index)."""
        return self.index is None or all(done is self.index for done in self._scanned.values())

    # Starting scans ------------------------------------------------------------------------------

    def on_index_built(self) -> None:
        """Discovery finished: (re)start both scans on the new index."""
        if self.index is not None:
            self.start_scans(self.index)

    def start_scans(self, index: InfraIndex) -> None:
        """Cancel running scans and start the security and duplication scans on `index`."""
        self._ensure_tabs()
        for token in (self._scan_cancel, self._dupes_cancel):
            if token is not None:
                token.cancel()
        self.scan_generation += 1
        self._scan_cancel, self._dupes_cancel = CancelToken(), CancelToken()
        self.scanning = self.finding_dupes = True
        self._scan_note = "scanning…"
        self._dupes_note = ""
        self._show_status()
        self._scanning_index = index
        self._scan(index, self.scan_generation, self._scan_cancel)
        self._find_dupes(index, self.scan_generation, self._dupes_cancel)

    def _ensure_tabs(self) -> None:
        screen = self.main_screen
        if not screen.query(f"#{FINDINGS_TAB}"):
            screen.add_tab("Findings", FindingsPanel(id="findings-panel"), id=FINDINGS_TAB)
            screen.add_tab("Duplicates", DupesPanel(id="dupes-panel"), id=DUPES_TAB)
            self._app.set_interval(POLL_SECONDS, self._poll_changes, name="mtime-poll")

    @property
    def findings_panel(self) -> FindingsPanel:
        return self.main_screen.query_one(FindingsPanel)

    @property
    def dupes_panel(self) -> DupesPanel:
        return self.main_screen.query_one(DupesPanel)

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False,
          description="security scan")
    def _scan(self, index: InfraIndex, generation: int, cancel: CancelToken) -> None:
        """Scan chunk by chunk, posting cumulative findings; unchanged files reuse their findings."""
        started = time.perf_counter()
        self._stamps, self._stamped = stamp_files(index.root, sorted(index.files)), index
        # A broken settings file is reported once, by discovery; the scan goes on with the defaults.
        config = scan_config(load_config_or_default(index.root)[0])
        basis = (frozenset(index.files), config)
        if basis != self._cache_basis:
            self._finding_cache = {}
        cache = self._finding_cache
        files = sorted(index.parsed)
        stream = not self.findings  # a rescan keeps the old table until the new result is complete
        found: list[Finding] = []
        fresh: dict[tuple[str, str], list[Finding]] = {}
        for start in range(0, len(files), CHUNK_FILES):
            cancel.check()
            chunk = files[start:start + CHUNK_FILES]
            todo: dict[str, Any] = {}
            for path in chunk:
                key = (path, index.files[path].sha256)
                if key in cache:
                    fresh[key] = cache[key]
                else:
                    todo[path] = index.parsed[path]
            if todo:
                for finding in scan_index(replace(index, parsed=todo), config, cancel=cancel):
                    fresh.setdefault((finding.path, index.files[finding.path].sha256), []).append(finding)
            for path in chunk:
                found.extend(fresh.setdefault((path, index.files[path].sha256), []))
            done = min(start + CHUNK_FILES, len(files))
            if stream or done == len(files):
                self._post(FindingsScanned(generation, tuple(found), done, len(files),
                                           finished=done == len(files),
                                           seconds=time.perf_counter() - started))
            else:
                self._post(FindingsScanned(generation, self.findings, done, len(files)))
        if not files:
            self._post(FindingsScanned(generation, (), 0, 0, finished=True))
        self._finding_cache, self._cache_basis = fresh, basis

    @work(thread=True, exclusive=True, group="dupes", exit_on_error=False,
          description="duplication scan")
    def _find_dupes(self, index: InfraIndex, generation: int, cancel: CancelToken) -> None:
        started = time.perf_counter()
        clusters = find_clones(index, cancel=cancel)
        self._post(DuplicatesFound(generation, tuple(clusters), time.perf_counter() - started))

    def _post(self, message: Any) -> None:
        self._app.post_message(message)

    # Showing results -----------------------------------------------------------------------------

    def on_findings_scanned(self, event: FindingsScanned) -> None:
        if event.generation != self.scan_generation:
            return
        if event.finished or event.findings is not self.findings:
            self.findings = event.findings
            self.findings_panel.show_findings(event.findings, complete=event.finished)
            self.main_screen.infra_tree.set_counts(worst_by_file(event.findings))
            self._set_tab_label(FINDINGS_TAB, "Findings", len(event.findings))
        if event.finished:
            self.scanning = False
            self._scanned["scan"] = self._scanning_index
            self._scan_note = _severity_summary(event.findings)
            self._app.log.info(f"scan: {len(event.findings)} findings in {event.seconds:.3f}s")
        else:
            self._scan_note = f"scanning {event.done:,}/{event.total:,}"
        self._show_status(event.done, event.total)

    def on_duplicates_found(self, event: DuplicatesFound) -> None:
        if event.generation != self.scan_generation:
            return
        self.clusters = event.clusters
        self.finding_dupes = False
        self._scanned["dupes"] = self._scanning_index
        self.dupes_panel.show_clusters(event.clusters, self.index)
        self.main_screen.infra_tree.set_duplicates(duplicated_lines_by_file(event.clusters))
        self._set_tab_label(DUPES_TAB, "Duplicates", len(event.clusters))
        groups = len(event.clusters)
        self._dupes_note = f"{groups or 'no'} duplicate group{'s' if groups != 1 else ''}"
        self._app.log.info(f"dupes: {groups} groups in {event.seconds:.3f}s")
        self._show_status()

    def on_scan_failed(self, event: ScanFailed) -> None:
        self._scanned[event.group] = self._scanning_index
        if event.group == "scan":
            self.scanning = False
            self._scan_note = f"[$text-error]scan failed:[/] {_escape(event.error)}"
        else:
            self.finding_dupes = False
            self._dupes_note = f"[$text-error]duplication scan failed:[/] {_escape(event.error)}"
        self._show_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.group not in OUR_GROUPS:
            return
        error = worker.error
        if isinstance(error, Cancelled):
            return
        if isinstance(error, (ConfigError, UnknownRule)):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error}"
        if worker.group in ("scan", "dupes"):
            self._post(ScanFailed(worker.group, text))
        else:
            self._app.notify(text, title="Failed", severity="error", timeout=10)

    def _set_tab_label(self, tab_id: str, title: str, count: int) -> None:
        tabs = self.main_screen.query("#workspace")
        if tabs:
            tab = tabs.first().get_tab(tab_id)  # type: ignore[attr-defined]
            tab.label = f"{title} {count}" if count else title

    def _show_status(self, done: int = 0, total: int = 0) -> None:
        screen = self.main_screen
        summary = getattr(screen, "discovery_summary", "")
        parts = [p for p in (summary, self._scan_note, self._dupes_note) if p]
        text = " · ".join(parts)
        if self.scanning or self.finding_dupes:
            screen.status.busy(text, done, total)
        else:
            screen.status.idle(text)

    # Fixes, abstractions, undo ---------------------------------------------------------------------

    def on_fix_requested(self, event: FixRequested) -> None:
        """Compute the requested quick fix in a worker, then review it; or say why there is none."""
        finding = event.finding
        fixable, reason = quick_fix_status(finding.rule_id)
        if not fixable:
            self._app.notify(f"No quick fix for {finding.rule_id}" + (f": {reason}" if reason else "."),
                             severity="warning")
            return
        if self.index is None:
            return
        self._compute_fix(self.index, finding, event.scope, self.findings)

    @work(thread=True, exclusive=True, group="quickfix", exit_on_error=False,
          description="quick fix")
    def _compute_fix(self, index: InfraIndex, finding: Finding, scope: str,
                     findings: tuple[Finding, ...]) -> None:
        if scope == "finding":
            proposal = fix_for(finding, index)
            problem = "" if proposal is not None else (
                f"{finding.rule_id} at {finding.path}:{finding.line} cannot be fixed automatically "
                "(or the file changed since the scan; press r)")
        else:
            plan = plan_fixes(findings, index, rule=finding.rule_id,
                              path=finding.path if scope == "file" else None)
            proposal = plan.proposal
            reasons = "; ".join(dict.fromkeys(s.reason for s in plan.skipped if s.reason))
            where = finding.path if scope == "file" else "the repository"
            problem = "" if proposal is not None else (
                f"Nothing of {finding.rule_id} in {where} can be fixed automatically"
                + (f": {reasons}" if reasons else "."))
        self._app.call_from_thread(self._review_or_explain, proposal, problem)

    def on_abstraction_requested(self, event: AbstractionRequested) -> None:
        if self.index is not None:
            self._compute_abstraction(self.index, event.cluster)

    @work(thread=True, exclusive=True, group="quickfix", exit_on_error=False,
          description="abstraction")
    def _compute_abstraction(self, index: InfraIndex, cluster: DuplicateCluster) -> None:
        try:
            proposal: Proposal | None = propose_abstraction(cluster, index)
            problem = ""
        except NotProposable as exc:
            proposal, problem = None, f"No abstraction offered: {exc}"
        self._app.call_from_thread(self._review_or_explain, proposal, problem)

    def _review_or_explain(self, proposal: Proposal | None, problem: str) -> None:
        if proposal is None:
            self._app.notify(problem, severity="warning", timeout=8)
            return
        self._app.push_screen(ReviewScreen(self.root, proposal), self._after_review)

    def _after_review(self, result: ApplyResult | None) -> None:
        if result is None:
            return
        self._app.notify(result.summary, title="Applied")
        self._app.action_rescan()

    def action_undo(self) -> None:
        """Undo the last change devops-tui applied, then rescan."""
        self._undo()

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False,
          description="undo")
    def _undo(self) -> None:
        app = self._app
        try:
            result = undo_last(self.root)
        except NothingToUndo:
            app.call_from_thread(app.notify, "Nothing to undo.", severity="warning")
        except UndoRefused as exc:
            diff = "\n".join(exc.diffs.splitlines()[:8])
            app.call_from_thread(app.notify, f"{exc}\n{diff}", title="Undo refused", severity="error",
                                 timeout=15, markup=False)
        except (JournalError, OSError) as exc:
            app.call_from_thread(app.notify, str(exc), title="Undo failed", severity="error", timeout=10)
        else:
            app.call_from_thread(app.notify, result.summary, title="Undone")
            app.call_from_thread(app.action_rescan)

    def action_show_findings(self) -> None:
        """Show the findings tab and move into its table."""
        if self.main_screen.query(f"#{FINDINGS_TAB}"):
            self.main_screen.show_tab(FINDINGS_TAB)
            self._app.call_after_refresh(self.findings_panel.table.focus)  # once the tab is visible

    def action_show_duplicates(self) -> None:
        """Show the duplicates tab and move into its group list."""
        if self.main_screen.query(f"#{DUPES_TAB}"):
            self.main_screen.show_tab(DUPES_TAB)
            self._app.call_after_refresh(self.dupes_panel.query_one("#dupes-list").focus)

    def _selected_finding(self) -> Finding | None:
        if not self.main_screen.query(f"#{FINDINGS_TAB}"):
            return None
        return self.findings_panel.selected

    def action_fix_selected(self, scope: str) -> None:
        """The palette's fix commands: fix the finding selected in the findings table."""
        finding = self._selected_finding()
        if finding is None:
            self._app.notify("Select a finding in the Findings tab first (F).", severity="warning")
        else:
            self.on_fix_requested(FixRequested(finding, scope))

    def action_propose_selected(self) -> None:
        """The palette's "Propose abstraction": for the group selected in the duplicates tab."""
        cluster = self.dupes_panel.selected if self.main_screen.query(f"#{DUPES_TAB}") else None
        if cluster is None:
            self._app.notify("Select a group in the Duplicates tab first (D).", severity="warning")
        else:
            self.on_abstraction_requested(AbstractionRequested(cluster))

    # Watching the disk -----------------------------------------------------------------------------

    def _poll_changes(self) -> None:
        if self.index is not None and self._stamped is self.index and not self.scanning:
            self._watch(self.index)

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False,
          description="mtime poll")
    def _watch(self, index: InfraIndex) -> None:
        """Rescan once when an indexed file's mtime or size moved since the scan of `index` began."""
        if stamp_files(index.root, sorted(self._stamps)) != self._stamps and self._stamped is index:
            self._stamped = None
            self._app.call_from_thread(self._app.action_rescan)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


for _command in (
    PaletteCommand("Show findings", "The security scan's findings, filterable", "app.show_findings"),
    PaletteCommand("Show duplicates", "Copy-pasted blocks ranked by lines saved", "app.show_duplicates"),
    PaletteCommand("Fix finding", "Quick fix of the selected finding, through review",
                   "app.fix_selected('finding')"),
    PaletteCommand("Fix all of this rule in this file", "One proposal for every instance in the file",
                   "app.fix_selected('file')"),
    PaletteCommand("Fix all of this rule in the repository", "One proposal for every instance in the repo",
                   "app.fix_selected('repo')"),
    PaletteCommand("Propose abstraction", "Replace the selected duplicate group's copies",
                   "app.propose_selected"),
    PaletteCommand("Undo last change", "Restore the files of the last applied change", "app.undo"),
):
    register_command(_command)
