"""Snapshots of the findings tab, the rule panel and the file view a finding jumps to.

Update with `pytest tests/tui/test_findings_snapshots.py --snapshot-update` after a deliberate change.
Repositories are built in fixed-name folders (repo0) and only repo-relative paths are drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.test_findings_pilot import FINDINGS_FILES, select_rule, wait_scanned
from tui.app import DevopsApp

SnapCompare = Callable[..., bool]
MakeRepo = Callable[..., Path]


class TestFindingsTab:
    def test_findings_panel(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """Filter bar, the table (severity coloured) and the first finding's rule below it."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await wait_scanned(pilot)
            await pilot.press("F")
            await pilot.pause()

        app = DevopsApp(make_repo(FINDINGS_FILES))
        assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)

    def test_rule_panel_narrow(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """At 80x24 with the tree hidden: a fixable rule's help, peer IDs and fix keys."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await wait_scanned(pilot)
            await select_rule(pilot, "DT-D020")
            await pilot.press("t")
            await pilot.pause()

        app = DevopsApp(make_repo(FINDINGS_FILES))
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_jump_marks_the_line(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """Enter on a finding opens its file with the line marked; the tree shows count badges."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await wait_scanned(pilot)
            await select_rule(pilot, "DT-D020")
            await pilot.press("enter")
            await pilot.pause()

        app = DevopsApp(make_repo(FINDINGS_FILES))
        assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)
