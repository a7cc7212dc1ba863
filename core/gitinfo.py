"""What git knows about the repository: its files, branch and per-file status (via gitpython).

Every function degrades to "not a git repository" instead of raising, because the app must open any
folder. Paths are repo-relative with forward slashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.models import GitStatus

try:
    import git
except ImportError:  # pragma: no cover - gitpython is a hard dependency, but git may be missing
    git = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class RepoInfo:
    """The folder being opened and, when it is one, the git repository around it."""

    root: Path
    is_git: bool
    branch: str | None = None
    head: str | None = None
    problem: str | None = None
    statuses: dict[str, GitStatus] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.root.name or str(self.root)

    def status(self, path: str) -> GitStatus:
        if not self.is_git:
            return GitStatus.NOT_GIT
        return self.statuses.get(path, GitStatus.CLEAN)


def _open(root: Path) -> git.Repo | None:
    """The work tree containing `root`, found upward so a sub-folder can say which repository it is in."""
    if git is None:
        return None
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None
    if repo.bare:
        return None
    return repo


def _parse_status(output: str) -> dict[str, GitStatus]:
    statuses: dict[str, GitStatus] = {}
    entries = output.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        xy, path = entry[:2], entry[3:]
        if xy[0] in "RC":
            i += 1  # the original path of a rename follows
        if xy == "??":
            statuses[path] = GitStatus.UNTRACKED
        elif xy == "!!":
            statuses[path] = GitStatus.IGNORED
        elif xy[1] != " ":
            statuses[path] = GitStatus.MODIFIED
        elif xy[0] != " ":
            statuses[path] = GitStatus.STAGED
    return statuses


def repo_info(root: Path) -> RepoInfo:
    """Describe `root`: whether it is a git work tree, its branch, and each changed file's status."""
    repo = _open(root)
    if repo is None:
        return RepoInfo(root=root, is_git=False)
    try:
        top = Path(repo.working_tree_dir or root).resolve()
        if top != root.resolve():
            # A sub-folder of a repository: open it as the folder the user asked for.
            return RepoInfo(root=root, is_git=False, problem=f"inside the git repository {top}")
        try:
            branch: str | None = repo.active_branch.name
        except (TypeError, ValueError):
            branch = None  # detached HEAD or no commits yet
        try:
            head: str | None = repo.head.commit.hexsha[:12]
        except ValueError:
            head = None
        if branch is None and head is not None:
            branch = f"detached@{head[:7]}"
        elif branch is None:
            branch = repo.git.symbolic_ref("--short", "HEAD", with_exceptions=False) or None
        output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all")
        return RepoInfo(root, True, branch, head, None, _parse_status(output))
    except git.GitCommandError as exc:
        return RepoInfo(root=root, is_git=False, problem=f"git failed: {exc.stderr.strip()[:200]}")
    finally:
        repo.close()


def list_git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, as `git ls-files` sees them; None if not git."""
    repo = _open(root)
    if repo is None:
        return None
    try:
        if Path(repo.working_tree_dir or root).resolve() != root.resolve():
            return None
        output = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    except git.GitCommandError:
        return None
    finally:
        repo.close()
    seen: dict[str, None] = {}
    for path in output.split("\0"):
        if path:
            seen.setdefault(path, None)
    return list(seen)
