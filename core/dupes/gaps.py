"""Near-miss groups: exact runs of units merged across small gaps (an inserted, missing or replaced unit).

Contract: `merge_gaps(runs, units, min_lines=…, max_params=…)` takes the exact run groups of
`run_groups` — found with no line minimum, so that short pieces can take part — and returns the run
groups to report: near-miss groups in place of the pieces they merge, and the other pieces that reach
`min_lines` on their own (the same test `run_groups` applies), so nothing is listed twice.

How: two exact groups of one category are pieces of one near-miss group when their copies lie in the
same containers (same files, same step lists), the second after the first in every copy, with at most
`MAX_GAP` units between them in any copy and at least one unit between them in some copy. Groups are
keyed by that container signature and by where their first copy starts, so each group finds its
successor by at most `MAX_GAP + 1` dict look-ups; chains (A, gap, B, gap, C) merge left to right. With
G exact groups of C copies each this is O(G·C·MAX_GAP), plus one O(N) pass over the N units to place
them in their sequences: it works from the exact groups and never compares files pairwise.

The near-miss group keeps the pieces' parameters (re-indexed into the shared sequence) and records
each unit that only some copies have as a `Gap`; `units_each` and `lines_each` count shared units only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from core.dupes.canonical import digest
from core.dupes.groups import SEQUENCE_CATEGORIES
from core.dupes.model import DuplicateCluster, Gap, Occurrence, Parameter
from core.dupes.units import Unit

#: the most units one copy may have between two pieces
MAX_GAP = 2
#: categories whose runs merge across gaps: those whose near-miss group has a proposal (gha-steps) or
#: whose pieces have none to lose; Dockerfile and shell runs keep their exact pieces, which are proposable
NEAR_MISS_CATEGORIES = frozenset({"gha-steps", "gitlab-script"})

_Key = tuple[str, str, str]  # (category, path, container): one sequence of units


class _Sequences:
    """The units of the sequences some group lies in, and each unit's position in its sequence."""

    def __init__(self, units: Iterable[Unit], wanted: set[_Key]) -> None:
        self.units: dict[_Key, list[Unit]] = defaultdict(list)
        for unit in units:
            category = SEQUENCE_CATEGORIES.get(unit.category)
            if category is not None and (category, unit.path, unit.container) in wanted:
                self.units[(category, unit.path, unit.container)].append(unit)
        self.position: dict[_Key, dict[int, int]] = {}
        for key, seq in self.units.items():
            seq.sort(key=lambda u: u.index)
            self.position[key] = {u.index: n for n, u in enumerate(seq)}

    def span(self, category: str, occ: Occurrence) -> tuple[int, int]:
        """First and past-the-end positions of a copy in its sequence."""
        start = self.position[(category, occ.path, occ.container)][occ.index]
        return start, start + occ.length

    def slice(self, category: str, occ: Occurrence, start: int, end: int) -> list[Unit]:
        return self.units[(category, occ.path, occ.container)][start:end]


def _ordered(cluster: DuplicateCluster) -> list[Occurrence]:
    return sorted(cluster.occurrences, key=lambda o: (o.path, o.container, o.index))


def _signature(cluster: DuplicateCluster) -> tuple[tuple[str, str], ...]:
    return tuple((o.path, o.container) for o in _ordered(cluster))


def _piece_lines(seqs: _Sequences, cluster: DuplicateCluster) -> int:
    """Lines of the first copy's units: the test `run_groups` applies for `min_lines`."""
    occ = cluster.occurrences[0]
    start, end = seqs.span(cluster.category, occ)
    return sum(u.lines for u in seqs.slice(cluster.category, occ, start, end))


def _successor(first: DuplicateCluster, seqs: _Sequences,
               by_start: dict[tuple[tuple[tuple[str, str], ...], int], list[DuplicateCluster]]
               ) -> DuplicateCluster | None:
    """The group continuing `first` after a small gap in every copy (smallest total gap, then longest)."""
    mine = [seqs.span(first.category, o) for o in _ordered(first)]
    signature = _signature(first)
    best: tuple[int, int, DuplicateCluster] | None = None
    for offset in range(MAX_GAP + 1):
        for other in by_start.get((signature, mine[0][1] + offset), ()):
            if other is first or other.category != first.category:
                continue
            theirs = [seqs.span(other.category, o) for o in _ordered(other)]
            gaps = [t[0] - m[1] for m, t in zip(mine, theirs, strict=True)]
            if min(gaps) < 0 or max(gaps) > MAX_GAP or max(gaps) == 0:
                continue
            rank = (sum(gaps), -other.units_each, other)
            if best is None or rank[:2] < best[:2]:
                best = rank
    return best[2] if best is not None else None


def _chains(runs: Sequence[DuplicateCluster], seqs: _Sequences) -> list[list[DuplicateCluster]]:
    """Pieces that follow one another across small gaps, each piece in at most one chain."""
    by_start: dict[tuple[tuple[tuple[str, str], ...], int], list[DuplicateCluster]] = defaultdict(list)
    for run in runs:
        by_start[(_signature(run), seqs.span(run.category, _ordered(run)[0])[0])].append(run)
    following: dict[int, DuplicateCluster] = {}
    claimed: set[int] = set()
    for run in sorted(runs, key=lambda r: seqs.span(r.category, _ordered(r)[0])[0]):
        nxt = _successor(run, seqs, by_start)
        if nxt is not None and id(nxt) not in claimed:
            following[id(run)] = nxt
            claimed.add(id(nxt))
    chains = []
    for run in runs:
        if id(run) in claimed or id(run) not in following:
            continue
        chain = [run]
        while id(chain[-1]) in following and len(chain) <= len(runs):
            chain.append(following[id(chain[-1])])
        chains.append(chain)
    return chains


def _shifted(where: str, offset: int) -> str:
    """`[1].with.x` of a piece as the path in the shared sequence (pieces are concatenated)."""
    head, _, rest = where.partition("]")
    return f"[{int(head.lstrip('[')) + offset}]{rest}"


def _parameters(chain: Sequence[DuplicateCluster]) -> tuple[Parameter, ...]:
    """The pieces' parameters re-indexed into the shared sequence, names kept unique."""
    out: list[Parameter] = []
    used: set[str] = set()
    offset = 0
    for piece in chain:
        # a piece lists its copies in its own order; parameters follow the first piece's
        order = [piece.occurrences.index(o) for o in _ordered(piece)]
        for p in piece.parameters:
            name, n = p.name, 2
            while name in used:
                name, n = f"{p.name}-{n}", n + 1
            used.add(name)
            out.append(Parameter(name, _shifted(p.where, offset), tuple(p.values[i] for i in order)))
        offset += piece.units_each
    return tuple(out)


def _gaps(copies: list[list[Unit]], shared: list[list[bool]], slots: list[int]) -> tuple[Gap, ...]:
    """Every unit only some copies have, by slot (the number of shared units before it)."""
    at_slot: list[dict[int, list[tuple[int, Unit]]]] = []
    for units, flags in zip(copies, shared, strict=True):
        found: dict[int, list[tuple[int, Unit]]] = defaultdict(list)
        seen = 0
        for n, (unit, is_shared) in enumerate(zip(units, flags, strict=True)):
            if is_shared:
                seen += 1
            else:
                found[seen].append((n, unit))
        at_slot.append(found)
    gaps: list[Gap] = []
    for slot in slots:
        having = [i for i, found in enumerate(at_slot) if found.get(slot)]
        lacking = [i for i, found in enumerate(at_slot) if not found.get(slot)]
        if not having:
            continue
        same = len({tuple(u.exact for _, u in at_slot[i][slot]) for i in having}) == 1
        kind = "extra" if lacking else "replaced"
        for i in having:
            gaps.extend(Gap(i, n, slot, kind, u.start_line, u.end_line, u.label) for n, u in at_slot[i][slot])
        if same:
            for i in lacking:
                # the slot-th shared unit is where the missing one would be; it follows the unit before
                position = [n for n, f in enumerate(shared[i]) if f][slot]
                line = copies[i][position - 1].end_line
                model = at_slot[having[0]][slot]
                gaps.extend(Gap(i, position, slot, "missing", line, line, u.label) for _, u in model)
    return tuple(sorted(gaps, key=lambda g: (g.after, g.occurrence, g.position)))


def _near_miss(chain: list[DuplicateCluster], seqs: _Sequences) -> tuple[DuplicateCluster, int]:
    """The near-miss group of a chain of pieces, and the lines of its first copy's shared units."""
    category = chain[0].category
    pieces = [_ordered(piece) for piece in chain]
    copies: list[list[Unit]] = []
    shared: list[list[bool]] = []
    occurrences: list[Occurrence] = []
    shared_lines: list[int] = []
    for i, first in enumerate(pieces[0]):
        spans = [seqs.span(category, piece[i]) for piece in pieces]
        units = seqs.slice(category, first, spans[0][0], spans[-1][1])
        flags = [any(a <= spans[0][0] + n < b for a, b in spans) for n in range(len(units))]
        copies.append(units)
        shared.append(flags)
        occ = Occurrence(first.path, first.container, units[0].index, len(units), units[0].start_line,
                         units[-1].end_line, f"{units[0].label} … {units[-1].label}")
        occurrences.append(occ)
        shared_lines.append(occ.lines - sum(u.lines for u, f in zip(units, flags, strict=True) if not f))
    slots = [sum(p.units_each for p in chain[: n + 1]) for n in range(len(chain) - 1)]
    key = "|".join(f"{o.path}:{o.start_line}" for o in occurrences)
    cluster = DuplicateCluster(
        id=digest(["near-miss", category, key])[:10],
        category=category,
        abstraction=chain[0].abstraction,
        occurrences=tuple(occurrences),
        units_each=sum(p.units_each for p in chain),
        lines_each=round(sum(shared_lines) / len(shared_lines)),
        parameters=_parameters(chain),
        touches=tuple(sorted({t for p in chain for t in p.touches})),
        exact=False,
        note="; ".join(dict.fromkeys(p.note for p in chain if p.note)),
        gaps=_gaps(copies, shared, slots),
    )
    first_lines = sum(u.lines for u, f in zip(copies[0], shared[0], strict=True) if f)
    return cluster, first_lines


def merge_gaps(runs: Sequence[DuplicateCluster], units: Iterable[Unit], *, min_lines: int,
               max_params: int) -> list[DuplicateCluster]:
    """Run groups to report: near-miss groups replacing their pieces, other pieces of `min_lines`."""
    wanted = {(r.category, o.path, o.container) for r in runs for o in r.occurrences}
    seqs = _Sequences(units, wanted)
    by_category: dict[str, list[DuplicateCluster]] = defaultdict(list)
    for run in runs:
        if run.category in NEAR_MISS_CATEGORIES:
            by_category[run.category].append(run)
    merged: set[int] = set()
    out: list[DuplicateCluster] = []
    for category_runs in by_category.values():
        for chain in _chains(category_runs, seqs):
            cluster, lines = _near_miss(chain, seqs)
            if lines < min_lines or cluster.distinct_parameters > max_params or cluster.lines_saved <= 0:
                continue  # not worth reporting: its pieces stand on their own
            out.append(cluster)
            merged.update(id(piece) for piece in chain)
    out.extend(r for r in runs if id(r) not in merged and _piece_lines(seqs, r) >= min_lines)
    return out
