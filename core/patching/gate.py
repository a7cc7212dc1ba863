"""The path gate: every path a proposal names must stay inside the repository.

`check_path(root, rel)` accepts only repo-relative paths (forward slashes, no `..`, no NUL, nothing
under `.git/` in any letter case), resolves symlinks — for a path that does not exist yet, through its
deepest existing parent — and refuses anything that lands outside the root or inside its `.git`.
It returns the resolved path to read and write, so an in-repo symlink is edited through, not replaced.
The engine calls it when a proposal is rendered and again right before writing.
"""

from __future__ import annotations

from pathlib import Path


class PathRefused(ValueError):
    """A path a proposal may not touch; the message says why and is safe to show."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r}: {reason}")
        self.path = path
        self.reason = reason


def normalise(rel: str) -> str:
    """The canonical form of a repo-relative path, or PathRefused; `./a//b` becomes `a/b`."""
    if not isinstance(rel, str) or not rel.strip():
        raise PathRefused(str(rel), "empty path")
    if "\0" in rel:
        raise PathRefused(rel.replace("\0", "\\0"), "path contains a NUL byte")
    if "\\" in rel:
        raise PathRefused(rel, "use forward slashes in repository paths")
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        raise PathRefused(rel, "absolute paths are not allowed; give a path relative to the repository")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts:
        raise PathRefused(rel, "path names the repository itself")
    if ".." in parts:
        raise PathRefused(rel, "'..' is not allowed in repository paths")
    if any(p.lower() == ".git" for p in parts):
        raise PathRefused(rel, "files under .git/ are never edited")
    return "/".join(parts)


def check_path(root: Path, rel: str) -> Path:
    """The resolved file path for `rel` under `root`, or PathRefused."""
    clean = normalise(rel)
    real_root = root.resolve()
    # resolve(strict=False) follows every existing component, including a dangling final link.
    target = (real_root / clean).resolve()
    try:
        inside = target.relative_to(real_root)
    except ValueError:
        raise PathRefused(rel, "resolves (through a symlink) to a place outside the repository") from None
    if not inside.parts:
        raise PathRefused(rel, "resolves to the repository folder itself")
    if any(p.lower() == ".git" for p in inside.parts):
        raise PathRefused(rel, "resolves (through a symlink) into .git/")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PathRefused(rel, f"{parent.relative_to(real_root)} is a file, not a folder")
    if target.is_dir():
        raise PathRefused(rel, "is a folder, not a file")
    return target
