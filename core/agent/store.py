"""Conversations persist per repository in the user's state dir, as the API-shaped message list."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "devops-tui"


class ConversationStore:
    """One JSON file per repository (keyed by its resolved path); written atomically."""

    def __init__(self, repo_root: Path, folder: Path | None = None) -> None:
        key = hashlib.sha256(str(repo_root.resolve()).encode()).hexdigest()[:16]
        self.path = (folder or state_dir() / "conversations") / f"{key}.json"
        self.repo_root = repo_root

    def load(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        messages = data.get("messages") if isinstance(data, dict) else None
        return messages if isinstance(messages, list) else []

    def save(self, messages: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps({"repo": str(self.repo_root), "messages": messages}), encoding="utf-8")
        os.replace(temp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
