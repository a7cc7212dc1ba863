"""Project configuration: `[tool.devops-tui]` in pyproject.toml or `.devops-tui.toml`, nearest first.

Lookup order (the first that sets a key wins): an explicit file, `.devops-tui.toml` in the repository,
`[tool.devops-tui]` in the repository's `pyproject.toml`, then the user's
`$XDG_CONFIG_HOME/devops-tui/config.toml`. Rule IDs may be written as ours (`DT-D001`) or as any peer
alias (`DL3008`, `hadolint:DL3008`, `CKV_DOCKER_2`), so existing ignore lists carry over.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import Severity


class ConfigError(Exception):
    """The configuration file is unreadable or has a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class Config:
    disable: tuple[str, ...] = ()
    """Rule IDs (ours or peer aliases) that never run."""
    enable: tuple[str, ...] = ()
    """When set, only these rules run."""
    severity: dict[str, str] = field(default_factory=dict)
    """Per-rule severity overrides, e.g. {"DT-D001": "high"}."""
    exclude: tuple[str, ...] = ()
    """Glob patterns of repo-relative paths that are neither scanned nor shown."""
    threshold: str = "info"
    """Findings below this severity are not reported."""
    fail_on: str = "high"
    """`devops-tui scan` exits 1 when a finding at or above this severity remains."""
    max_file_size: int = 1024 * 1024
    """Files larger than this many bytes are skipped (with a visible reason)."""
    commit_after_apply: bool = False
    """Commit each applied proposal with git (one commit per proposal)."""
    model: str | None = None
    """The Anthropic model the agent uses (DEVOPS_TUI_MODEL overrides it)."""
    sources: tuple[str, ...] = ()
    """The files this configuration was read from, nearest first."""


_KEYS = {
    "disable": tuple, "enable": tuple, "severity": dict, "exclude": tuple, "threshold": str,
    "fail-on": str, "fail_on": str, "max-file-size": int, "max_file_size": int,
    "commit-after-apply": bool, "commit_after_apply": bool, "model": str,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _section(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("devops-tui") if isinstance(tool, dict) else None
        return section if isinstance(section, dict) else None
    section = data.get("tool", {}).get("devops-tui") if "tool" in data else data
    return section if isinstance(section, dict) else None


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "devops-tui" / "config.toml"


def candidate_paths(root: Path, explicit: Path | None = None) -> list[Path]:
    paths = [explicit] if explicit else []
    paths += [root / ".devops-tui.toml", root / "pyproject.toml", user_config_path()]
    return paths


def load_config_or_default(root: Path) -> tuple[Config, str | None]:
    """For the app: a broken configuration must not stop the repository from opening, so fall back to
    the defaults and return the problem for the user to read."""
    try:
        return load_config(root), None
    except ConfigError as exc:
        return Config(), f"configuration ignored: {exc}"


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Merge every configuration source for `root`, nearest first."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    if explicit is not None and not explicit.is_file():
        raise ConfigError(f"{explicit}: no such configuration file")
    for path in candidate_paths(root, explicit):
        section = _section(path)
        if section is None:
            continue
        sources.append(str(path))
        for key, value in section.items():
            if key not in _KEYS:
                raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(_KEYS))})")
            expected = _KEYS[key]
            if expected is tuple:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{path}: {key} must be a list of strings")
                value = tuple(value)
            elif not isinstance(value, expected):
                raise ConfigError(f"{path}: {key} must be a {expected.__name__}")
            merged.setdefault(key.replace("-", "_"), value)
    for key in ("threshold", "fail_on"):
        if key in merged:
            try:
                Severity.parse(merged[key])
            except ValueError as exc:
                raise ConfigError(f"{key}: {exc}") from None
    for rule_id, level in merged.get("severity", {}).items():
        try:
            Severity.parse(str(level))
        except ValueError as exc:
            raise ConfigError(f"severity.{rule_id}: {exc}") from None
    return Config(**merged, sources=tuple(sources))
