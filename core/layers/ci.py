"""CI gates: dive's `.dive-ci` rules plus ours, evaluated on a `LayerReport`.

Contract: `load_ci_rules(text)` accepts dive's YAML (`rules:` mapping, or the keys at top level) in
camelCase or snake_case; `disabled`, `off`, `false` (also YAML's boolean false) switch a rule off.
dive's rules and defaults: lowestEfficiency 0.9, highestWastedBytes disabled, highestUserWastedPercent
0.1. Ours, all off by default: maxLayerWastedBytes (bytes a single layer wrote that later layers hid),
maxLayers, forbidVisible (globs matched against visible paths). Byte values take units as dive does
("20MB" = 20,000,000; "20MiB" = 20 × 2^20). Unknown keys and bad values raise `CiConfigError`.
With `metrics="dive"`, efficiency, wasted bytes and user-wasted percent are dive's figures.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.layers.hints import format_bytes
from core.layers.model import LayerReport
from core.layers.replay import Dir, walk_files


class CiConfigError(Exception):
    """The CI configuration cannot be used; the message says why."""


_KEYS = {
    "lowestefficiency": "lowest_efficiency",
    "highestwastedbytes": "highest_wasted_bytes",
    "highestuserwastedpercent": "highest_user_wasted_percent",
    "maxlayerwastedbytes": "max_layer_wasted_bytes",
    "maxlayers": "max_layers",
    "forbidvisible": "forbid_visible",
}
_OFF = {"disabled", "off", "false", "no", "none", ""}
_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "ki": 1024, "mi": 1024**2, "gi": 1024**3,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True, slots=True)
class CiRules:
    lowest_efficiency: float | None = 0.9
    highest_wasted_bytes: int | None = None
    highest_user_wasted_percent: float | None = 0.1
    max_layer_wasted_bytes: int | None = None
    max_layers: int | None = None
    forbid_visible: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CiResult:
    """One rule's verdict: `status` is pass, fail or skip."""

    rule: str
    status: str
    message: str


@dataclass(frozen=True, slots=True)
class CiOutcome:
    results: tuple[CiResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(r.status != "fail" for r in self.results)


def parse_bytes(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise CiConfigError(f"{key}: expected a size such as 20MB, got {value!r}")
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise CiConfigError(f"{key}: cannot read {value!r} as a size (examples: 20MB, 1.5GiB, 1000)")
    return int(float(match.group(1)) * _UNITS[unit])


def _ratio(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise CiConfigError(f"{key}: expected a number between 0 and 1, got {value!r}")
    try:
        number = float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise CiConfigError(f"{key}: expected a number between 0 and 1, got {value!r}") from None
    if not 0 <= number <= 1:
        raise CiConfigError(f"{key}: {value!r} is outside 0..1")
    return number


def _is_off(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str) and value.strip().lower() in _OFF)


def load_ci_rules(text: str, source: str = ".dive-ci") -> CiRules:
    """Parse a `.dive-ci` file's text."""
    try:
        document = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise CiConfigError(f"{source} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise CiConfigError(f"{source}: expected a mapping with a 'rules:' section")
    rules = document.get("rules", document) if "rules" in document else document
    if rules is None:
        rules = {}
    if not isinstance(rules, dict):
        raise CiConfigError(f"{source}: 'rules' must be a mapping")
    values: dict[str, Any] = {}
    for raw_key, value in rules.items():
        key = _KEYS.get(str(raw_key).replace("_", "").replace("-", "").lower())
        if key is None:
            known = ", ".join(sorted({"lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent",
                                      "maxLayerWastedBytes", "maxLayers", "forbidVisible"}))
            raise CiConfigError(f"{source}: unknown rule {raw_key!r} (known: {known})")
        label = f"{source}: {raw_key}"
        if key == "forbid_visible":
            if _is_off(value):
                values[key] = ()
            elif isinstance(value, str):
                values[key] = (value,)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[key] = tuple(value)
            else:
                raise CiConfigError(f"{label}: expected a list of glob patterns")
        elif _is_off(value):
            values[key] = None
        elif key in ("lowest_efficiency", "highest_user_wasted_percent"):
            values[key] = _ratio(value, label)
        elif key == "max_layers":
            if isinstance(value, bool) or not str(value).strip().isdigit():
                raise CiConfigError(f"{label}: expected a whole number, got {value!r}")
            values[key] = int(str(value).strip())
        else:
            values[key] = parse_bytes(value, label)
    return CiRules(**values)


def evaluate(report: LayerReport, rules: CiRules, metrics: str = "ours") -> CiOutcome:
    """Check every enabled rule; disabled rules are listed as skipped."""
    use_dive = metrics == "dive" and report.dive is not None
    efficiency = report.dive.efficiency if use_dive and report.dive else report.efficiency
    wasted = report.dive.wasted_bytes if use_dive and report.dive else report.wasted_bytes
    user_pct = report.dive.user_wasted_percent if use_dive and report.dive else report.user_wasted_percent
    results: list[CiResult] = []

    def check(rule: str, limit: Any, failed: bool, message: str) -> None:
        if limit is None:
            results.append(CiResult(rule, "skip", "disabled"))
        else:
            results.append(CiResult(rule, "fail" if failed else "pass", message))

    lowest = rules.lowest_efficiency
    check("lowestEfficiency", lowest, lowest is not None and efficiency < lowest,
          f"efficiency {efficiency:.4f} (lowest allowed {lowest})")
    highest = rules.highest_wasted_bytes
    check("highestWastedBytes", highest, highest is not None and wasted > highest,
          f"wasted {format_bytes(wasted)} (highest allowed {format_bytes(highest or 0)})")
    user_limit = rules.highest_user_wasted_percent
    check("highestUserWastedPercent", user_limit, user_limit is not None and user_pct > user_limit,
          f"user wasted {user_pct:.2%} (highest allowed {user_limit:.2%})" if user_limit is not None else "")
    per_layer = rules.max_layer_wasted_bytes
    worst = max(report.layers, key=lambda layer: layer.obsolete_later_bytes, default=None)
    worst_bytes = worst.obsolete_later_bytes if worst else 0
    check("maxLayerWastedBytes", per_layer, per_layer is not None and worst_bytes > per_layer,
          f"layer {worst.index if worst else '-'} wrote {format_bytes(worst_bytes)} that later layers hid "
          f"(highest allowed {format_bytes(per_layer or 0)})")
    max_layers = rules.max_layers
    check("maxLayers", max_layers, max_layers is not None and len(report.layers) > max_layers,
          f"{len(report.layers)} layers (most allowed {max_layers})")
    if rules.forbid_visible:
        results.append(_forbidden(report, rules.forbid_visible))
    else:
        results.append(CiResult("forbidVisible", "skip", "disabled"))
    return CiOutcome(tuple(results))


def _forbidden(report: LayerReport, globs: tuple[str, ...]) -> CiResult:
    if not isinstance(report.tree, Dir):
        return CiResult("forbidVisible", "skip", "the report carries no file tree")
    hits = sorted(p for p, _node in walk_files(report.tree) if any(fnmatch.fnmatchcase(p, g) for g in globs))
    if hits:
        shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
        return CiResult("forbidVisible", "fail", f"forbidden paths are visible: {shown}")
    return CiResult("forbidVisible", "pass", f"no visible path matches {', '.join(globs)}")
