"""Fixtures shared by every test: real git repositories and plain folders built in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import git
import pytest

FileSpec = Mapping[str, str | bytes]


def write_tree(root: Path, files: FileSpec) -> None:
    """Write `files` (repo-relative path -> text or bytes) under `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the developer's own config, state and API keys."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    for name in list(os.environ):
        if name.startswith("ANTHROPIC_") or name == "DEVOPS_TUI_MODEL":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Build a real git repository: `make_repo(files, commit=True, dirty=None, untracked=None)`."""

    counter = iter(range(1000))

    def build(
        files: FileSpec,
        *,
        commit: bool = True,
        dirty: FileSpec | None = None,
        staged: FileSpec | None = None,
        untracked: FileSpec | None = None,
    ) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        root.mkdir()
        repo = git.Repo.init(root, initial_branch="main")
        write_tree(root, files)
        if commit and files:
            repo.git.add(A=True)
            repo.index.commit("initial")
        if staged:
            write_tree(root, staged)
            repo.git.add(*staged.keys())
        if dirty:
            write_tree(root, dirty)
        if untracked:
            write_tree(root, untracked)
        repo.close()
        return root

    return build


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[[FileSpec], Path]:
    """Build a plain folder (not a git repository) with the given files."""

    def build(files: FileSpec) -> Path:
        root = tmp_path / "folder"
        root.mkdir(exist_ok=True)
        write_tree(root, files)
        return root

    return build


@pytest.fixture
def repo_dir(make_repo: Callable[..., Path]) -> Iterator[Path]:
    """A small committed repository with one file of each main kind."""
    yield make_repo(
        {
            "Dockerfile": "FROM alpine:3.19\nRUN echo hi\n",
            "docker-compose.yml": "services:\n  web:\n    image: nginx:1.25\n",
            ".github/workflows/ci.yml": "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: echo ok\n",
        }
    )
