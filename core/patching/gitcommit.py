"""Commit an applied proposal: one commit holding only the files it touched (gitpython).

Other staged work stays staged and out of the commit (`git commit --only`). The user's hooks run.
Failures come back as a message; the files stay applied either way.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from core.patching.proposal import Proposal

try:
    import git
except ImportError:  # pragma: no cover - gitpython is a hard dependency
    git = None  # type: ignore[assignment]


class CommitFailed(Exception):
    """The commit could not be made; the message is for the user."""


def commit_message(proposal: Proposal) -> str:
    """Subject, wrapped rationale, and trailers naming the rules and findings it fixes."""
    subject = proposal.title.strip().splitlines()[0] if proposal.title.strip() else "devops-tui change"
    parts = [subject[:72]]
    if proposal.rationale.strip():
        parts.append("\n".join(textwrap.fill(p, 72) for p in proposal.rationale.strip().split("\n\n")))
    trailers = []
    if proposal.rule_ids:
        trailers.append(f"Fixes-Rules: {', '.join(proposal.rule_ids)}")
    trailers.extend(f"Finding-Fingerprint: {fp}" for fp in proposal.finding_fingerprints)
    trailers.append(f"Applied-By: devops-tui ({proposal.producer})")
    parts.append("\n".join(trailers))
    return "\n\n".join(parts) + "\n"


def commit_paths(root: Path, present: Sequence[str], removed: Sequence[str], message: str) -> str:
    """Commit exactly these paths as they are on disk; returns the new commit's sha."""
    if git is None:
        raise CommitFailed("gitpython is not installed")
    try:
        repo = git.Repo(root, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise CommitFailed(f"{root} is not a git repository") from None
    try:
        if present:
            repo.git.add("--", *present)
        repo.git.commit("-m", message, "--only", "--", *present, *removed)
        return str(repo.head.commit.hexsha)
    except git.GitCommandError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise CommitFailed(f"git commit failed: {detail[-1] if detail else exc}") from None
    finally:
        repo.close()
