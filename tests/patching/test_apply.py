"""Apply and undo on real files: freshness, all-or-nothing, modes, line endings, journal, git commit."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from core.patching import (
    ApplyRefused,
    FileEdit,
    NothingToUndo,
    Producer,
    Proposal,
    UndoRefused,
    apply_proposal,
    check_proposal,
    file_diffs,
    list_entries,
    make_create,
    make_delete,
    make_modify,
    undo_last,
)
from core.patching.journal import EntryState, journal_dir
from tests.patching.conftest import tree_snapshot

COMPOSE = "services:\n  web:\n    image: nginx:latest\n    ports:\n      - '80:80'\n"


def _proposal(*edits: FileEdit, title: str = "pin images") -> Proposal:
    return Proposal(title, "because", Producer.QUICK_FIX, edits, ("fp1",), ("DL3007",))


def test_modify_apply_and_undo_round_trip(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"docker-compose.yml": COMPOSE})
    edit = make_modify(root, "docker-compose.yml", COMPOSE.replace("latest", "1.25"))
    result = apply_proposal(root, _proposal(edit))
    assert result.summary == "applied 1 of 1 hunks in 1 file"
    assert (root / "docker-compose.yml").read_text() == COMPOSE.replace("latest", "1.25")
    assert journal_dir(root) == root / ".git" / "devops-tui" / "journal"
    assert [e.state for e in list_entries(root)] == [EntryState.COMPLETE]
    undone = undo_last(root)
    assert undone.restored == ("docker-compose.yml",)
    assert (root / "docker-compose.yml").read_text() == COMPOSE
    with pytest.raises(NothingToUndo):
        undo_last(root)


def test_stale_file_refused_nothing_written(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"docker-compose.yml": COMPOSE, "Dockerfile": "FROM alpine:latest\n"})
    first = make_modify(root, "Dockerfile", "FROM alpine:3.19\n")
    second = make_modify(root, "docker-compose.yml", COMPOSE.replace("latest", "1.25"))
    (root / "docker-compose.yml").write_text(COMPOSE + "  db:\n    image: postgres:16\n")
    snap = tree_snapshot(root)
    with pytest.raises(ApplyRefused) as info:
        apply_proposal(root, _proposal(first, second))
    assert [p.message for p in info.value.problems] == [
        "docker-compose.yml changed since the proposal was made; regenerate it"
    ]
    assert not info.value.overridable
    assert tree_snapshot(root) == snap
    assert list_entries(root) == []


def test_invalid_yaml_blocks_all_files_unless_overridden(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"docker-compose.yml": COMPOSE, "Dockerfile": "FROM alpine:latest\n"})
    good = make_modify(root, "Dockerfile", "FROM alpine:3.19\n")
    bad = make_modify(root, "docker-compose.yml", COMPOSE + "  broken: [unclosed\n")
    snap = tree_snapshot(root)
    with pytest.raises(ApplyRefused) as info:
        apply_proposal(root, _proposal(good, bad))
    assert info.value.overridable
    assert "docker-compose.yml" in info.value.problems[0].message
    assert tree_snapshot(root) == snap
    assert check_proposal(root, _proposal(good, bad)) == list(info.value.problems)
    result = apply_proposal(root, _proposal(good, bad), allow_invalid=True)
    assert result.files == ("Dockerfile", "docker-compose.yml")
    assert journal_dir(root).is_relative_to(Path(os.environ["XDG_STATE_HOME"]))


def test_kind_change_and_dockerfile_breakage_refused(make_folder: Callable[..., Path]) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    root = make_folder({"deploy/cm.yaml": manifest, "Dockerfile": "FROM alpine:3.19\nRUN echo hi\n"})
    to_list = make_modify(root, "deploy/cm.yaml", manifest.replace("kind", "type"))
    broken = make_modify(root, "Dockerfile", "FROM alpine:3.19\nRUN <<EOF\necho unterminated\n")
    problems = check_proposal(root, _proposal(to_list, broken))
    messages = " | ".join(p.message for p in problems)
    assert "it was k8s, it would become yaml" in messages
    assert "Dockerfile" in messages and len(problems) == 2


def test_create_refused_when_file_appeared(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"a.txt": "a\n"})
    edit = make_create(root, "new/b.txt", "b\n")
    (root / "new").mkdir()
    (root / "new" / "b.txt").write_text("someone else\n")
    with pytest.raises(ApplyRefused, match="already exists"):
        apply_proposal(root, _proposal(edit))
    assert (root / "new" / "b.txt").read_text() == "someone else\n"


def test_mode_crlf_and_no_final_newline_preserved(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"deploy.sh": "#!/bin/sh\necho one\necho two\n", "win.yml": b"a: 1\r\nb: 2\r\n",
                        "tail.env": "A=1\nB=2"})
    os.chmod(root / "deploy.sh", 0o751)
    edits = (
        make_modify(root, "deploy.sh", "#!/bin/sh\nset -eu\necho one\necho two\n"),
        make_modify(root, "win.yml", "a: 1\nb: 3\nc: 4\n"),  # producer forgot CRLF
        make_modify(root, "tail.env", "A=1\nB=3\n"),  # producer added a final newline
    )
    apply_proposal(root, _proposal(*edits))
    assert stat.S_IMODE((root / "deploy.sh").stat().st_mode) == 0o751
    assert (root / "win.yml").read_bytes() == b"a: 1\r\nb: 3\r\nc: 4\r\n"
    assert (root / "tail.env").read_bytes() == b"A=1\nB=3"
    os.chmod(root / "deploy.sh", 0o751)
    undo_last(root)
    assert (root / "win.yml").read_bytes() == b"a: 1\r\nb: 2\r\n"
    assert (root / "tail.env").read_bytes() == b"A=1\nB=2"
    assert stat.S_IMODE((root / "deploy.sh").stat().st_mode) == 0o751


def test_create_and_delete_then_undo(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"old.sh": "#!/bin/sh\necho bye\n", "keep.txt": "k\n"})
    os.chmod(root / "old.sh", 0o700)
    snap = tree_snapshot(root)
    create = make_create(root, "ci/templates/base.yml", "x: 1\n", mode=0o640)
    delete = make_delete(root, "old.sh")
    diffs = file_diffs(_proposal(create, delete), root)
    assert [len(d.hunks) for d in diffs] == [1, 1]
    assert diffs[0].unified().startswith("--- /dev/null\n+++ b/ci/templates/base.yml\n@@ -0,0 +1 @@\n+x: 1\n")
    result = apply_proposal(root, _proposal(create, delete))
    assert result.summary == "applied 2 of 2 hunks in 2 files"
    assert not (root / "old.sh").exists()
    assert stat.S_IMODE((root / "ci/templates/base.yml").stat().st_mode) == 0o640
    undo_last(root)
    assert tree_snapshot(root) == snap  # the created folders are gone too


def test_undo_refuses_with_diff_when_file_changed_after(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"app.env": "PORT=80\n"})
    apply_proposal(root, _proposal(make_modify(root, "app.env", "PORT=8080\n")))
    (root / "app.env").write_text("PORT=9090\nDB_PASSWORD=hunter2xyzzy\n")
    with pytest.raises(UndoRefused) as info:
        undo_last(root)
    assert "app.env changed after devops-tui applied it" in str(info.value)
    assert "-PORT=8080" in info.value.diffs and "+PORT=9090" in info.value.diffs
    assert "hunter2xyzzy" not in info.value.diffs  # secret values are masked in printed diffs
    assert (root / "app.env").read_text() == "PORT=9090\nDB_PASSWORD=hunter2xyzzy\n"


def test_partial_hunks_and_summary(make_folder: Callable[..., Path]) -> None:
    lines = [f"line {i}\n" for i in range(40)]
    root = make_folder({"big.txt": "".join(lines)})
    new = list(lines)
    new[2], new[20], new[35] = "CHANGED 2\n", "CHANGED 20\n", "CHANGED 35\n"
    edit = make_modify(root, "big.txt", "".join(new))
    proposal = _proposal(edit)
    assert len(file_diffs(proposal, root)[0].hunks) == 3
    result = apply_proposal(root, proposal, {"big.txt": {0, 2}})
    assert result.summary == "applied 2 of 3 hunks in 1 file"
    text = (root / "big.txt").read_text()
    assert "CHANGED 2\n" in text and "CHANGED 35\n" in text and "line 20\n" in text
    empty = apply_proposal(root, _proposal(make_modify(root, "big.txt", "x\n")), {})
    assert empty.summary == "applied 0 of 1 hunks in 0 files" and empty.entry_id is None


def test_git_commit_option_commits_only_touched_files(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": "FROM alpine:latest\n", "old.txt": "x\n", "other.txt": "o\n"},
                     staged={"other.txt": "staged by the user\n"})
    proposal = Proposal("Pin the base image", "Floating tags break builds.", Producer.QUICK_FIX,
                        (make_modify(root, "Dockerfile", "FROM alpine:3.19\n"), make_delete(root, "old.txt"),
                         make_create(root, "docs/NOTE.md", "n\n")),
                        ("abc123",), ("DL3007",), )
    result = apply_proposal(root, proposal, commit=True)
    assert result.commit_sha and result.commit_error is None
    repo = git.Repo(root)
    try:
        head = repo.head.commit
        assert len(list(repo.iter_commits())) == 2
        changed = set(head.stats.files)
        assert changed == {"Dockerfile", "old.txt", "docs/NOTE.md"}
        message = str(head.message)
        assert "Fixes-Rules: DL3007" in message and "Finding-Fingerprint: abc123" in message
        assert repo.git.diff("--cached", "--name-only") == "other.txt"  # user's staged work untouched
    finally:
        repo.close()
    assert list_entries(root)[0].commit == result.commit_sha


def test_commit_outside_git_reports_but_keeps_the_apply(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"a.txt": "a\n"})
    result = apply_proposal(root, _proposal(make_modify(root, "a.txt", "b\n")), commit=True)
    assert result.commit_sha is None and "not a git repository" in (result.commit_error or "")
    assert (root / "a.txt").read_text() == "b\n"


def test_write_failure_rolls_back_files_already_written(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"a/one.txt": "1\n", "b/two.txt": "2\n"})
    # A name the file system takes but whose temp file name is too long: the second write fails for real.
    long_name = "n" * 240
    proposal = _proposal(make_modify(root, "a/one.txt", "one\n"), make_modify(root, "b/two.txt", "two\n"),
                         make_create(root, f"c/{long_name}", "3\n"))
    snap = tree_snapshot(root)
    with pytest.raises(ApplyRefused, match=r"writing failed.*restored"):
        apply_proposal(root, proposal)
    assert tree_snapshot(root) == snap
    assert [e.state for e in list_entries(root)] == [EntryState.UNDONE]
