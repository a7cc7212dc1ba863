"""Turn user-facing rule selections (our IDs or peer aliases) into a `ScanConfig`."""

from __future__ import annotations

from collections.abc import Iterable

from core.config import Config
from core.models import Severity
from core.rules.base import Rule, registered_rules
from core.scan import ScanConfig


class UnknownRule(ValueError):
    """A rule ID that matches neither one of ours nor a known peer alias."""


def resolve_rule_ids(names: Iterable[str], rules: dict[str, Rule] | None = None) -> frozenset[str]:
    """`DL3008`, `hadolint:DL3008` and `DT-D010` all name our rule DT-D010."""
    rules = rules if rules is not None else registered_rules()
    by_alias: dict[str, set[str]] = {}
    for rule in rules.values():
        for alias in rule.aliases:
            by_alias.setdefault(alias.lower(), set()).add(rule.id)
            by_alias.setdefault(alias.split(":", 1)[-1].lower(), set()).add(rule.id)
    resolved: set[str] = set()
    for name in names:
        key = name.strip()
        if key.upper() in rules:
            resolved.add(key.upper())
        elif key.lower() in by_alias:
            resolved |= by_alias[key.lower()]
        else:
            raise UnknownRule(f"unknown rule {name!r}")
    return frozenset(resolved)


def scan_config(config: Config, *, only: Iterable[str] = ()) -> ScanConfig:
    """The engine's view of the user's configuration (plus `--rule` selections from the CLI)."""
    rules = registered_rules()
    enabled = resolve_rule_ids([*config.enable, *only], rules)
    overrides = {
        rule_id: Severity.parse(level)
        for name, level in config.severity.items()
        for rule_id in resolve_rule_ids([name], rules)
    }
    return ScanConfig(
        disabled=resolve_rule_ids(config.disable, rules),
        enabled_only=enabled,
        severity_overrides=overrides,
        exclude=config.exclude,
        min_severity=Severity.parse(config.threshold),
    )
