"""Grouping: whole units by shape, and maximal repeated runs of sequence units across all files.

Runs are found by k-gram seeding plus extension: every position of every sequence is keyed by the
shapes of its next k units (k = 2); each key with two or more positions seeds a group, which is extended
one unit at a time, splitting the positions whenever their next shapes differ. A group is reported when
it can no longer grow with the same copies (right-maximal) and only from seeds whose copies do not all
share the unit before them (left-maximal). With N units and runs of length L this is O(N·L) time and
O(N) memory — no pairwise comparison of files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from core.dupes.canonical import leaves
from core.dupes.model import DuplicateCluster, Occurrence, Parameter
from core.dupes.units import Unit

SEQUENCE_CATEGORIES = {
    "gha-step": "gha-steps",
    "gitlab-script": "gitlab-script",
    "docker-instruction": "docker-run",
    "docker-command": "docker-commands",  # the `&&`/`;` commands of one RUN, so chains match across RUNs
    "shell-statement": "shell-statements",
}
WHOLE_CATEGORIES = ("gha-job", "gitlab-job", "compose-service", "shell-function", "env-keys", "k8s-manifest",
                    "docker-stage", "compose-block")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}")
_EXTENSIONS = frozenset({"txt", "yml", "yaml", "json", "toml", "cfg", "ini", "lock", "tar", "tgz"})
_TOUCH_KEYS = ("secrets", "env", "runs-on", "needs", "services", "if")


def _touches(forms: Iterable[object]) -> tuple[str, ...]:
    found: set[str] = set()
    for form in forms:
        for path, value in leaves(form).items():
            parts = path.replace("[", ".").split(".")
            found.update(k for k in _TOUCH_KEYS if k in parts)
            if isinstance(value, str) and "secrets." in value:
                found.add("secrets")
    return tuple(sorted(found))


def _common_start(values: Sequence[str]) -> str:
    first, n = values[0], 0
    while n < len(first) and all(len(v) > n and v[n] == first[n] for v in values):
        n += 1
    return first[:n]


def _shared_word(values: Sequence[str]) -> str | None:
    """A whole word every value has next to its varying part: 'requirements' for api/requirements.txt
    and web/requirements.txt, 'tests' for api/tests and web/tests. Variables there ($REGISTRY,
    ${CI_COMMIT_SHA}) are other values, not a name for this one."""
    suffix = _common_start([v[::-1] for v in values])[::-1]
    prefix = _common_start(values)
    candidates = []
    if not _EXTENSION.fullmatch(suffix):  # a shared file extension says nothing
        whole = not suffix[:1].isalnum() or all(
            len(v) == len(suffix) or not v[-len(suffix) - 1].isalnum() for v in values)
        candidates.append(_WORDS.findall(_VARIABLE.sub(" ", suffix))[0 if whole else 1:])
    if prefix:
        whole = not prefix[-1:].isalnum() or all(
            len(v) == len(prefix) or not v[len(prefix)].isalnum() for v in values)
        candidates.append(_WORDS.findall(_VARIABLE.sub(" ", prefix))[::-1][0 if whole else 1:])
    for words in candidates:
        named = [w for w in words if len(w) > 2 and not w.isdigit() and w not in _EXTENSIONS]
        if named:
            return named[0]
    return None


def _param_name(path: str, per_copy: list[dict[str, object]], values: Sequence[str]) -> str:
    """A readable input name: the YAML key, or for a shell word the option before it, the word the
    values share, or the value itself when it is a name."""
    if "#" in path:
        head, _, pos = path.rpartition("#")
        before = per_copy[0].get(f"{head}#{int(pos) - 1}") if pos.isdigit() and int(pos) > 0 else None
        if isinstance(before, str) and before.startswith("-") and len(before.lstrip("-")) > 1:
            return before.lstrip("-")
        shared = _shared_word(values)
        if shared is not None:
            return shared
        value = per_copy[0].get(path)
        if isinstance(value, str) and re.match(r"^[A-Za-z][\w.-]*$", value):
            return re.split(r"[.\-_]", value.rsplit("/", 1)[-1])[0] or "arg"
        key = head.rsplit(".", 1)[-1].strip("[]0123456789")
        return f"{key or 'run'}-arg"
    return path.rsplit(".", 1)[-1].strip("[]0123456789") or "value"


def _parameters(copies: Sequence[Sequence[Unit]]) -> tuple[list[Parameter], list[str], bool]:
    """Leaves that differ between copies, and notes for differences that cannot be inputs.

    `uses:` refs cannot be templated in GitHub Actions, so differing refs of the same action are
    unified (the first copy's ref wins) and said in a note instead of becoming a parameter.
    """
    params: list[Parameter] = []
    notes: list[str] = []
    per_copy = [
        {f"[{i}].{p}": v for i, unit in enumerate(run) for p, v in leaves(unit.form).items()}
        for run in copies
    ]
    paths = list(dict.fromkeys(p for leafset in per_copy for p in leafset))
    used: set[str] = set()
    for path in paths:
        values = tuple(str(leafset.get(path, "")) for leafset in per_copy)
        if len(set(values)) > 1 and path.endswith(".uses"):
            notes.append(f"unifies {values[0].split('@')[0]} refs ({', '.join(dict.fromkeys(values))}) "
                         f"to {values[0].split('@')[-1]}")
            continue
        if len(set(values)) > 1:
            name = _param_name(path, per_copy, values).replace("_", "-").lower()
            candidate, n = name, 2
            while candidate in used:
                candidate, n = f"{name}-{n}", n + 1
            used.add(candidate)
            params.append(Parameter(candidate, path, values))
    return params, notes, not params and not notes


#: category -> (abstraction when every copy is in one file, abstraction across files)
ABSTRACTIONS = {
    "gha-steps": ("composite-action", "composite-action"),
    "gha-job": ("yaml-anchor", "reusable-workflow"),
    "gitlab-job": ("gitlab-extends", "gitlab-extends"),
    "gitlab-script": ("gitlab-extends", "gitlab-extends"),
    "compose-service": ("compose-anchor", "compose-extends"),
    "docker-run": ("docker-base-stage", "docker-base-stage"),
    "docker-commands": ("docker-script", "docker-script"),
    "docker-stage": ("docker-base-stage", "docker-base-stage"),
    "compose-block": ("yaml-anchor", "compose-include"),
    "shell-statements": ("shell-lib", "shell-lib"),
    "shell-function": ("shell-lib", "shell-lib"),
    "env-keys": ("env-template", "env-template"),
    "k8s-manifest": ("kustomize-base", "kustomize-base"),
}


def _abstraction(category: str, occurrences: Sequence[Occurrence]) -> str:
    same_file = len({o.path for o in occurrences}) == 1
    choices = ABSTRACTIONS.get(category)
    return "manual" if choices is None else choices[0 if same_file else 1]


def _cluster(category: str, runs: list[list[Unit]]) -> DuplicateCluster:
    occurrences = tuple(
        Occurrence(
            path=run[0].path,
            container=run[0].container,
            index=run[0].index,
            length=len(run),
            start_line=run[0].start_line,
            end_line=run[-1].end_line,
            label=run[0].label if len(run) == 1 else f"{run[0].label} … {run[-1].label}",
        )
        for run in runs
    )
    params, notes, exact = _parameters(runs)
    # The copied units' own lines: a span may hold other things between them (a shell function
    # defined between two copied statements), which the abstraction would not remove.
    lines_each = round(sum(u.lines for run in runs for u in run) / len(runs))
    key = "|".join(f"{o.path}:{o.start_line}" for o in occurrences)
    from core.dupes.canonical import digest

    return DuplicateCluster(
        id=digest([category, key])[:10],
        category=category,
        abstraction=_abstraction(category, occurrences),
        occurrences=occurrences,
        units_each=len(runs[0]),
        lines_each=lines_each,
        parameters=tuple(params),
        touches=_touches(u.form for u in runs[0]),  # copies share a shape, so one copy tells
        exact=exact,
        note="; ".join(notes),
    )


#: A unit below `min_lines` still makes a group when its copies together reach this many times that:
#: a three-line `log()` helper pasted into a thousand deploy scripts is worth one shared library.
COMMON_FACTOR = 10


def whole_groups(units: Iterable[Unit], min_lines: int) -> list[DuplicateCluster]:
    by_shape: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.category in WHOLE_CATEGORIES and unit.lines >= min(min_lines, 2):
            by_shape[(unit.category, unit.shape)].append(unit)
    return [
        _cluster(cat, [[u] for u in group]) for (cat, _), group in by_shape.items()
        if len(group) > 1 and (group[0].lines >= min_lines or
                               sum(u.lines for u in group) >= COMMON_FACTOR * min_lines)
    ]


def run_groups(units: Iterable[Unit], min_lines: int, k: int = 2) -> list[DuplicateCluster]:
    """Maximal repeated runs of sequence units (see the module docstring)."""
    sequences: dict[tuple[str, str, str], list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.category in SEQUENCE_CATEGORIES:
            sequences[(SEQUENCE_CATEGORIES[unit.category], unit.path, unit.container)].append(unit)
    by_category: dict[str, list[list[Unit]]] = defaultdict(list)
    for (category, _, _), seq_units in sequences.items():
        by_category[category].append(sorted(seq_units, key=lambda u: u.index))
    clusters: list[DuplicateCluster] = []
    for category, seqs in by_category.items():
        shapes = [[u.shape for u in s] for s in seqs]
        seeds: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
        for si, s in enumerate(shapes):
            for i in range(len(s) - k + 1):
                seeds[tuple(s[i : i + k])].append((si, i))
        for positions in seeds.values():
            if len(positions) < 2:
                continue
            # left-maximal: skip when every copy shares the same preceding unit
            previous = {shapes[si][i - 1] if i > 0 else None for si, i in positions}
            if len(previous) == 1 and None not in previous:
                continue
            _extend(category, seqs, shapes, positions, k, min_lines, clusters)
    return clusters


def _extend(category: str, seqs: list[list[Unit]], shapes: list[list[str]],
            positions: list[tuple[int, int]], length: int, min_lines: int,
            out: list[DuplicateCluster]) -> None:
    stack = [(positions, length)]
    while stack:
        group, length = stack.pop()
        # drop overlapping copies within one sequence (a run that repeats itself back to back)
        kept: list[tuple[int, int]] = []
        last_end: dict[int, int] = {}
        for si, i in sorted(group):
            if i >= last_end.get(si, -1):
                kept.append((si, i))
                last_end[si] = i + length
        if len(kept) < 2:
            continue
        following: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
        for si, i in kept:
            nxt = shapes[si][i + length] if i + length < len(shapes[si]) else None
            following[nxt].append((si, i))
        continuing = {nxt: g for nxt, g in following.items() if nxt is not None and len(g) >= 2}
        if not (len(continuing) == 1 and len(next(iter(continuing.values()))) == len(kept)):
            runs = [seqs[si][i : i + length] for si, i in kept]
            if sum(u.lines for u in runs[0]) >= min_lines:
                out.append(_cluster(category, runs))
        for g in continuing.values():
            stack.append((g, length + 1))
