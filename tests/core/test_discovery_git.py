"""Discovery in real git repositories: what git lists, what it ignores, and each file's status."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import git
import pytest

from core.discovery import DiscoveryError, build_index
from core.models import FileKind, GitStatus
from core.progress import Progress


def test_tracked_and_untracked_kept_and_ignored_dropped(make_repo: Callable[..., Path]) -> None:
    root = make_repo(
        {
            ".gitignore": "build/\n*.log\n",
            "Dockerfile": "FROM alpine:3.19\n",
            "ci/deploy.yml": "jobs: {}\n",
        },
        untracked={
            "new.Dockerfile": "FROM busybox:1.36\n",
            "build/Dockerfile": "FROM scratch\n",
            "debug.log": "secret=xyz\n",
        },
    )
    index = build_index(root)
    assert set(index.files) == {".gitignore", "Dockerfile", "ci/deploy.yml", "new.Dockerfile"}
    assert index.repo.is_git and index.repo.branch == "main"
    assert index.files["new.Dockerfile"].kind is FileKind.DOCKERFILE


def test_status_badges_modified_staged_untracked(make_repo: Callable[..., Path]) -> None:
    root = make_repo(
        {"Dockerfile": "FROM alpine:3.19\n", "deploy.sh": "#!/bin/sh\necho hi\n", "k.env": "A=1\n"},
        staged={"compose.yaml": "services:\n  a:\n    image: nginx:1.25\n"},
        dirty={"Dockerfile": "FROM alpine:3.20\n"},
        untracked={"run.sh": "echo new\n"},
    )
    info = build_index(root).repo
    assert info.status("Dockerfile") is GitStatus.MODIFIED
    assert info.status("compose.yaml") is GitStatus.STAGED
    assert info.status("run.sh") is GitStatus.UNTRACKED
    assert info.status("deploy.sh") is GitStatus.CLEAN
    assert [info.status(p).badge for p in ("Dockerfile", "compose.yaml", "run.sh", "deploy.sh")] == [
        "M", "A", "?", ""]


def test_repository_without_commits_lists_untracked_files(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": "FROM alpine:3.19\n"}, commit=False)
    index = build_index(root)
    assert set(index.files) == {"Dockerfile"}
    assert index.repo.status("Dockerfile") is GitStatus.UNTRACKED
    assert index.repo.head is None


def test_file_deleted_but_still_tracked_is_skipped_with_a_reason(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": "FROM alpine:3.19\n", "gone.sh": "echo\n"})
    (root / "gone.sh").unlink()
    index = build_index(root)
    assert "gone.sh" not in index.files
    assert [s.path for s in index.skipped] == ["gone.sh"]


def test_subfolder_of_a_repository_is_opened_as_a_plain_folder(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"svc/Dockerfile": "FROM alpine:3.19\n", "svc/.gitignore": "*.tmp\n",
                      "svc/x.tmp": "t\n"})
    index = build_index(root / "svc")
    assert not index.repo.is_git
    assert "inside the git repository" in (index.repo.problem or "")
    assert set(index.files) == {"Dockerfile", ".gitignore"}


def test_git_metadata_never_listed(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"a.sh": "echo\n"})
    assert not any(p.startswith(".git/") for p in build_index(root).files)


def test_missing_root_raises_discovery_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="no such file"):
        build_index(tmp_path / "nope")


def test_root_that_is_a_file_raises_discovery_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(DiscoveryError, match="not a folder"):
        build_index(target)


def test_empty_folder_gives_an_empty_index(tmp_path: Path) -> None:
    index = build_index(tmp_path)
    assert index.files == {} and index.skipped == [] and not index.repo.is_git


def test_empty_git_repository(tmp_path: Path) -> None:
    git.Repo.init(tmp_path).close()
    index = build_index(tmp_path)
    assert index.repo.is_git and index.files == {}


def test_exclude_patterns_drop_files(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"vendor/x/Dockerfile": "FROM a:1\n", "Dockerfile": "FROM a:1\n"})
    assert set(build_index(root, exclude=["vendor/*"]).files) == {"Dockerfile"}


def test_progress_reports_start_and_end(make_repo: Callable[..., Path]) -> None:
    root = make_repo({f"s{i}.sh": "echo\n" for i in range(3)})
    seen: list[Progress] = []
    build_index(root, progress=seen.append)
    assert (seen[0].done, seen[0].total) == (0, 3)
    assert (seen[-1].done, seen[-1].total) == (3, 3)
