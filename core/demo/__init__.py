"""The bundled demo repository: a small monorepo with realistic problems planted for every feature.

Contract: `make_demo_repo(dest)` copies the bundled tree into `dest` (or a fresh temp folder), turns each
path component written `dot-NAME` into `.NAME` (hidden names are fragile as package data), makes the
scripts executable and commits everything to a new git repository on branch `main`. It only reads the
installed package, never writes into it. Every credential in the tree is fake but matches detector formats.
"""

from __future__ import annotations

import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import git

DOT_PREFIX = "dot-"
_AUTHOR = git.Actor("devops-tui demo", "demo@devops-tui.invalid")


class DemoError(Exception):
    """The demo repository could not be created (destination not empty, git failed, ...)."""


def bundled_tree() -> Traversable:
    """The demo tree as shipped inside the package (names still `dot-` encoded)."""
    return resources.files(__name__) / "repo"


def demo_name(name: str) -> str:
    """The real name of a bundled path component: `dot-github` -> `.github`."""
    return "." + name[len(DOT_PREFIX):] if name.startswith(DOT_PREFIX) else name


def _copy(source: Traversable, target: Path) -> int:
    count = 0
    for child in sorted(source.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__" or child.name.endswith(".pyc"):
            continue
        destination = target / demo_name(child.name)
        if child.is_dir():
            destination.mkdir(exist_ok=True)
            count += _copy(child, destination)
            continue
        data = child.read_bytes()
        destination.write_bytes(data)
        if destination.suffix == ".sh" or data.startswith(b"#!"):
            destination.chmod(0o755)
        count += 1
    return count


def make_demo_repo(dest: Path | None = None) -> Path:
    """Create the demo repository in `dest` (created if missing, must be empty) and return its path."""
    if dest is None:
        root = Path(tempfile.mkdtemp(prefix="devops-tui-demo-"))
    else:
        root = Path(dest).expanduser().absolute()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise DemoError(f"{root}: exists and is not an empty folder")
        root.mkdir(parents=True, exist_ok=True)
    source = bundled_tree()
    if not source.is_dir():
        raise DemoError("the demo repository is missing from the installed package")
    _copy(source, root)
    try:
        repo = git.Repo.init(root, initial_branch="main")
        try:
            repo.git.add(A=True)
            repo.index.commit("Initial import of shop-platform", author=_AUTHOR, committer=_AUTHOR)
        finally:
            repo.close()
    except git.GitCommandError as exc:
        raise DemoError(f"git failed while creating the demo: {exc.stderr.strip()[:200]}") from exc
    return root
