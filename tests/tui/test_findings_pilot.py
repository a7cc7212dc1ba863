"""The scans wired into the app, driven with Pilot on real git repositories: streaming findings, tree
badges, filters, jump-to-line, the rule panel, quick fixes through the review screen, undo, rescans,
and secrets never reaching the screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.message import Message
from textual.pilot import Pilot

from core.models import FileKind, Severity
from core.rules.base import registered_rules
from tests.secrets.planted import PLANTED
from tests.tui.helpers import notices, open_panel, screen_text, settle, wait_scanned
from tui.app import DevopsApp
from tui.messages import FindingsScanned
from tui.screens.review import ReviewScreen
from tui.widgets.findings_panel import FindingsPanel
from tui.widgets.infra_tree import InfraTree

MakeRepo = Callable[..., Path]

pytestmark = pytest.mark.anyio

DOCKERFILE = (
    "FROM python:3.12-slim\n"
    "WORKDIR /app\n"
    "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
    "COPY . .\n"
    "USER app\n"
    "HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\n"
    'CMD ["python", "app.py"]\n'
)
COMPOSE = "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n"
#: A small repository whose findings fit one screen: two fixable DT-D020, one unfixable DT-C001.
FINDINGS_FILES: dict[str, str] = {
    "services/api/Dockerfile": DOCKERFILE,
    "services/api/.dockerignore": ".git\n",
    "docker-compose.yml": COMPOSE,
}
GITHUB_PAT = next(value for detector, value, _ in PLANTED if detector == "github-pat")
PEM_BODY = next(value for detector, value, _ in PLANTED if detector == "private-key")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def panel_of(app: DevopsApp) -> FindingsPanel:
    return app.main_screen.query_one(FindingsPanel)


async def select_rule(pilot: Pilot[None], rule_id: str) -> None:
    """Open the findings tab and put the cursor on the first finding of `rule_id`."""
    panel = await open_panel(pilot, "F", FindingsPanel)
    rows = [f.rule_id for f in panel.shown]
    assert rule_id in rows, rows
    panel.table.move_cursor(row=rows.index(rule_id), animate=False)
    await pilot.pause()


async def test_findings_stream_in_batches_and_badge_the_tree(make_repo: MakeRepo) -> None:
    files = {f"svc{n:03}/Dockerfile": "FROM alpine:latest\nRUN apk add curl\n" for n in range(450)}
    messages: list[Message] = []
    app = DevopsApp(make_repo({**files, **FINDINGS_FILES}))
    async with app.run_test(size=(120, 34), message_hook=messages.append) as pilot:
        await wait_scanned(pilot)
        scanned = [m for m in messages if isinstance(m, FindingsScanned)]
        partial = [m for m in scanned if not m.finished]
        assert partial and all(m.done < m.total for m in partial)
        sizes = [len(m.findings) for m in scanned]
        assert sizes == sorted(sizes) and scanned[-1].finished
        assert app.findings == scanned[-1].findings and len(app.findings) > 450
        tree = app.query_one(InfraTree)
        worst = max(f.severity for f in app.findings if f.path == "docker-compose.yml")
        count = sum(1 for f in app.findings if f.path == "docker-compose.yml")
        label = tree.node_for("docker-compose.yml").label  # type: ignore[union-attr]
        assert f" {count} " in label.plain
        assert worst is Severity.HIGH
        assert f"{len(app.findings):,} findings" in app.main_screen.status.text
        assert not app.main_screen.status.has_class("-busy")


async def test_filters_by_severity_kind_and_text(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(FINDINGS_FILES))
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await pilot.press("F")
        await pilot.pause()
        panel = panel_of(app)
        everything = list(panel.shown)
        assert len(everything) == len(app.findings) and panel.table.row_count == len(everything)
        await pilot.press("m", "m")  # info → low → medium
        assert panel.min_severity is Severity.MEDIUM
        assert panel.shown and all(f.severity >= Severity.MEDIUM for f in panel.shown)
        assert len(panel.shown) < len(everything)
        await pilot.press("escape", "k")
        assert panel.kind is FileKind.DOCKERFILE  # first kind that has findings
        assert panel.shown and {f.kind for f in panel.shown} == {FileKind.DOCKERFILE}
        await pilot.press("k")
        assert panel.kind is FileKind.COMPOSE and [f.rule_id for f in panel.shown] == ["DT-C001"]
        await pilot.press("escape", "slash", *"no-install")
        await pilot.pause()
        assert app.focused is panel.query_one("#findings-text")
        assert [f.rule_id for f in panel.shown] == ["DT-D020", "DT-D020"]
        await pilot.press("enter", "escape")
        assert panel.shown == everything and panel.table.row_count == len(everything)


async def test_enter_jumps_to_the_marked_line(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(FINDINGS_FILES))
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await select_rule(pilot, "DT-C001")
        finding = panel_of(app).selected
        assert finding is not None and finding.line == 4
        await pilot.press("enter")
        await pilot.pause()
        view = app.main_screen.file_view
        assert app.main_screen.query_one("#workspace").active == "tab-file"  # type: ignore[attr-defined]
        assert (view.path, view.marked_line) == ("docker-compose.yml", 4)
        assert app.focused is view


async def test_rule_panel_shows_help_aliases_and_fix_availability(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(FINDINGS_FILES))
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await select_rule(pilot, "DT-D020")
        rule = registered_rules()["DT-D020"]
        text = " ".join(panel_of(app).rule_panel.text.split())
        assert rule.title in text and rule.aliases[0] in text
        assert " ".join(rule.help.split())[:60] in text
        assert "Quick fix" in text
        await select_rule(pilot, "DT-C001")
        text = panel_of(app).rule_panel.text
        assert registered_rules()["DT-C001"].title in text and "No quick fix for this rule" in text


async def test_fix_applies_through_review_then_the_finding_is_gone_and_undo_brings_it_back(
        make_repo: MakeRepo) -> None:
    root = make_repo(FINDINGS_FILES)
    target = root / "services/api/Dockerfile"
    before = target.read_bytes()
    app = DevopsApp(root)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        assert sum(f.rule_id == "DT-D020" for f in app.findings) == 2
        await select_rule(pilot, "DT-D020")
        await pilot.press("x")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert review.proposal.paths == ("services/api/Dockerfile",)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await wait_scanned(pilot)
        after = target.read_bytes()
        assert after != before and after.count(b"--no-install-recommends") == 1
        assert sum(f.rule_id == "DT-D020" for f in app.findings) == 1
        assert sum(f.rule_id == "DT-D020" for f in panel_of(app).shown) == 1
        await pilot.press("u")
        await settle(pilot)
        await wait_scanned(pilot)
        assert target.read_bytes() == before
        assert sum(f.rule_id == "DT-D020" for f in app.findings) == 2
        assert any(n.startswith("undid") for n in notices(app))


async def test_fix_all_of_a_rule_in_a_file_is_one_proposal(make_repo: MakeRepo) -> None:
    root = make_repo(FINDINGS_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await select_rule(pilot, "DT-D020")
        await pilot.press("X")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.proposal.rule_ids == ("DT-D020",)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await wait_scanned(pilot)
        assert (root / "services/api/Dockerfile").read_text().count("--no-install-recommends") == 2
        assert not any(f.rule_id == "DT-D020" for f in app.findings)


async def test_unfixable_rule_and_empty_undo_are_explained(make_repo: MakeRepo) -> None:
    root = make_repo(FINDINGS_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await select_rule(pilot, "DT-C001")
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ReviewScreen)
        assert any(n.startswith("No quick fix for DT-C001") for n in notices(app))
        await pilot.press("u")
        await settle(pilot)
        assert "Nothing to undo." in notices(app)
        assert (root / "docker-compose.yml").read_text() == COMPOSE


async def test_undo_refuses_when_the_file_changed_since(make_repo: MakeRepo) -> None:
    root = make_repo(FINDINGS_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        await select_rule(pilot, "DT-D020")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await wait_scanned(pilot)
        target = root / "services/api/Dockerfile"
        edited = target.read_text() + "LABEL edited=by-hand\n"
        target.write_text(edited)
        await pilot.press("u")
        await settle(pilot)
        assert target.read_text() == edited
        assert any("Undo" in (n.title or "") and n.severity == "error" for n in app._notifications)


async def test_rescan_key_picks_up_edits_on_disk(make_repo: MakeRepo) -> None:
    root = make_repo(FINDINGS_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_scanned(pilot)
        first = app.scan_generation
        (root / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx:1.25\n")
        await pilot.press("r")
        await wait_scanned(pilot)
        assert app.scan_generation > first
        assert not any(f.rule_id == "DT-C001" for f in app.findings)
        assert not any(f.rule_id == "DT-C001" for f in panel_of(app).shown)


async def test_secrets_never_reach_the_screen_unless_revealed(make_repo: MakeRepo) -> None:
    files = {
        "Dockerfile": f"FROM alpine:3.19\nENV GITHUB_TOKEN={GITHUB_PAT}\nUSER app\n",
        "k8s/tls.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n  tls.key: |\n"
        "    -----BEGIN RSA PRIVATE KEY-----\n"
        + "".join(f"    {line}\n" for line in PEM_BODY.split("\n"))
        + "    -----END RSA PRIVATE KEY-----\n",
    }
    pem_lines = [line for line in PEM_BODY.split("\n") if len(line) > 16]
    app = DevopsApp(make_repo(files))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_scanned(pilot)
        for path, secrets in (("Dockerfile", [GITHUB_PAT]), ("k8s/tls.yaml", pem_lines)):
            assert app.main_screen.open_file(path, 2)
            await pilot.pause()
            shown = screen_text(app)
            assert "BEGIN RSA PRIVATE KEY" in shown or "GITHUB_TOKEN=" in shown
            for secret in secrets:
                assert secret[4:-4] not in shown, f"{path}: secret on screen"
                assert secret not in app.main_screen.file_view.visible_text()
            assert "v reveals" in shown
            await pilot.press("f", "v")  # the explicit reveal shows it: the check above can fail
            await pilot.pause()
            assert secrets[0] in app.main_screen.file_view.visible_text()
            assert secrets[0][4:-4] in screen_text(app)
            await pilot.press("v")
            await pilot.pause()
            assert secrets[0][4:-4] not in screen_text(app)
        await pilot.press("F")
        await pilot.pause()
        table_text = screen_text(app)
        assert "DT-S003" in table_text and GITHUB_PAT[4:-4] not in table_text
