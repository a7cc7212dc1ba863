"""The duplication scan: units from every parsed file, grouped, ranked, filtered.

Contract: `find_clones(index)` returns clusters ranked by score (lines saved minus a cost per
parameter), dropping groups whose abstraction would need more than `max_params` parameters and
groups contained in a better one of the same kind. Runs equal apart from a small gap come as one
near-miss group (`core.dupes.gaps`), not as its pieces.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.discovery import InfraIndex
from core.dupes.gaps import merge_gaps
from core.dupes.groups import run_groups, whole_groups
from core.dupes.model import DuplicateCluster
from core.dupes.units import Unit, units_of
from core.parsing import ParsedFile, paused_gc
from core.progress import CancelToken, Progress, ProgressCallback, no_progress

_UNIT_CACHE: dict[tuple[str, str, str], list[Unit]] = {}
_UNIT_CACHE_LIMIT = 100_000


def collect_units(parsed_files: Iterable[ParsedFile], cancel: CancelToken | None = None) -> list[Unit]:
    """Units of every file; an unchanged file (same content hash) is never cut twice."""
    units: list[Unit] = []
    for number, parsed in enumerate(parsed_files):
        if cancel is not None and number % 256 == 0:
            cancel.check()
        if parsed.problem is not None and not (parsed.docs or parsed.dockerfile):
            continue
        key = (parsed.file.sha256, parsed.kind.value, parsed.path)
        cached = _UNIT_CACHE.get(key)
        if cached is None:
            cached = units_of(parsed)
            if len(_UNIT_CACHE) >= _UNIT_CACHE_LIMIT:
                _UNIT_CACHE.clear()
            _UNIT_CACHE[key] = cached
        units.extend(cached)
    return units


def _covered(small: DuplicateCluster, big: DuplicateCluster) -> bool:
    """Every copy of `small` lies inside a copy of `big`."""
    return all(
        any(o.path == b.path and b.start_line <= o.start_line and o.end_line <= b.end_line
            for b in big.occurrences)
        for o in small.occurrences
    )


#: a group of the key's kind lying inside a group of one of these kinds, copy for copy, says nothing new
_NESTED_IN = {"docker-commands": ("docker-run", "docker-stage"), "docker-run": ("docker-stage",)}


def _drop_nested(clusters: list[DuplicateCluster]) -> list[DuplicateCluster]:
    """Drop RUN-command groups inside instruction-run groups (and runs inside whole stages) with the same
    copies; a command group whose copies sit in different RUNs than any bigger group's stays."""
    bigger = [c for c in clusters if c.category in ("docker-run", "docker-stage")]
    return [c for c in clusters if not any(
        b.category in _NESTED_IN.get(c.category, ()) and c.copies <= b.copies and _covered(c, b)
        for b in bigger)]


def find_clones(
    index: InfraIndex,
    *,
    min_lines: int = 4,
    max_params: int = 6,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[DuplicateCluster]:
    parsed = sorted(index.parsed.values(), key=lambda p: p.path)
    progress(Progress("dupes", 0, len(parsed)))
    with paused_gc():
        units = collect_units(parsed, cancel)
        progress(Progress("dupes", len(parsed) // 2, len(parsed), "grouping"))
        # runs are found without a line minimum: short pieces may still merge across a gap
        runs = merge_gaps(run_groups(units, 0), units, min_lines=min_lines, max_params=max_params)
        clusters = whole_groups(units, min_lines) + runs
    clusters = [c for c in clusters if c.distinct_parameters <= max_params and c.lines_saved > 0]
    clusters = _drop_nested(clusters)
    clusters.sort(key=lambda c: (-c.score, c.category, c.occurrences[0].path, c.occurrences[0].start_line))
    kept: list[DuplicateCluster] = []
    for cluster in clusters:
        # A run inside a better run of the same kind adds nothing; a step run inside a repeated job stays,
        # because the two abstractions (composite action, reusable workflow) serve different needs.
        if any(better.category == cluster.category and _covered(cluster, better)
               and cluster.copies <= better.copies for better in kept):
            continue
        kept.append(cluster)
    progress(Progress("dupes", len(parsed), len(parsed)))
    return kept


def duplicated_lines_by_file(clusters: Iterable[DuplicateCluster]) -> dict[str, int]:
    """For tree badges: how many of a file's lines are part of some copy."""
    spans: dict[str, set[int]] = {}
    for cluster in clusters:
        for o in cluster.occurrences:
            spans.setdefault(o.path, set()).update(range(o.start_line, o.end_line + 1))
    return {path: len(lines) for path, lines in spans.items()}
