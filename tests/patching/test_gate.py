"""The path gate refuses every way out of the repository, and a refused proposal touches nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.patching import (
    ApplyRefused,
    EditAction,
    FileEdit,
    PathRefused,
    Producer,
    Proposal,
    apply_proposal,
    check_path,
    file_diffs,
    sha256_bytes,
)
from tests.patching.conftest import tree_snapshot


def _create(path: str) -> Proposal:
    return Proposal("t", "r", Producer.AGENT, (FileEdit(path, EditAction.CREATE, b"x\n"),))


@pytest.fixture
def world(tmp_path: Path, make_repo) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("keep\n")
    root = make_repo({"Dockerfile": "FROM alpine:3.19\n", "sub/app.yml": "a: 1\n"})
    os.symlink(outside / "secret.txt", root / "escape.txt")
    os.symlink(outside, root / "outdir")
    os.symlink(root / ".git", root / "gitlink")
    return root, outside


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../x", "'..'"),
        ("sub/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        (".git/config", ".git/"),
        ("sub/.GIT/hooks/pre-commit", ".git/"),
        ("a\0b", "NUL"),
        ("", "empty"),
        ("escape.txt", "outside the repository"),
        ("outdir/new.txt", "outside the repository"),
        ("outdir/deeper/new.txt", "outside the repository"),
        ("gitlink/config", "into .git/"),
        ("Dockerfile/inner", "is a file, not a folder"),
        ("sub", "is a folder"),
        ("a\\b", "forward slashes"),
    ],
)
def test_refused_paths_leave_everything_untouched(world: tuple[Path, Path], path: str, reason: str) -> None:
    root, outside = world
    with pytest.raises(PathRefused, match=reason.replace("/", "/").replace(".", r"\.")):
        check_path(root, path)
    before_root, before_out = tree_snapshot(root), tree_snapshot(outside)
    git_before = (root / ".git" / "config").read_bytes()
    with pytest.raises(ApplyRefused) as info:
        apply_proposal(root, _create(path))
    assert info.value.problems and not info.value.overridable
    assert tree_snapshot(root) == before_root
    assert tree_snapshot(outside) == before_out
    assert (root / ".git" / "config").read_bytes() == git_before


def test_modify_through_escaping_symlink_refused(world: tuple[Path, Path]) -> None:
    root, outside = world
    data = (outside / "secret.txt").read_bytes()
    edit = FileEdit("escape.txt", EditAction.MODIFY, b"pwned\n", sha256_bytes(data), data)
    with pytest.raises(PathRefused):
        file_diffs(Proposal("t", "r", Producer.AGENT, (edit,)), root)
    with pytest.raises(ApplyRefused, match="outside the repository"):
        apply_proposal(root, Proposal("t", "r", Producer.AGENT, (edit,)))
    assert (outside / "secret.txt").read_bytes() == data


def test_accepted_paths_normalise(world: tuple[Path, Path]) -> None:
    root, _ = world
    assert check_path(root, "./sub//app.yml") == (root / "sub" / "app.yml").resolve()
    assert check_path(root, "new/deep/file.txt") == root.resolve() / "new" / "deep" / "file.txt"


def test_in_repo_symlink_is_edited_through(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo({"real.env": "A=1\n"})
    os.symlink("real.env", root / ".env")
    data = b"A=1\n"
    edit = FileEdit(".env", EditAction.MODIFY, b"A=2\n", sha256_bytes(data))
    result = apply_proposal(root, Proposal("t", "r", Producer.QUICK_FIX, (edit,)))
    assert result.files == ("real.env",)
    assert (root / ".env").is_symlink()
    assert (root / "real.env").read_bytes() == b"A=2\n"
