"""What the duplication scan reports: groups of copies and the abstraction that would replace them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One copy: a span of lines in one file (a run of `length` units starting at unit `index`)."""

    path: str
    container: str
    index: int
    length: int
    start_line: int
    end_line: int
    label: str

    @property
    def lines(self) -> int:
        return self.end_line - self.start_line + 1


@dataclass(frozen=True, slots=True)
class Parameter:
    """A value that differs between copies: it becomes an input of the abstraction."""

    name: str
    where: str  # leaf path inside the unit, e.g. "[1].with.python-version"
    values: tuple[str, ...]  # one per occurrence, in occurrence order


@dataclass(frozen=True, slots=True)
class Gap:
    """A unit only some copies have, in a near-miss group (copies equal apart from small gaps).

    `kind` is "extra" (this copy has the unit, some others do not), "missing" (this copy lacks the
    unit the others share; `line` is the line it would follow) or "replaced" (every copy has a unit
    here, but not the same one).
    """

    occurrence: int  # which copy: index into the cluster's occurrences
    position: int  # unit position inside that copy's span (where it would be, for "missing")
    after: int  # shared units before it: the slot it fills in the shared sequence
    kind: str
    line: int
    end_line: int  # a missing unit has no lines of its own: its `line` both times
    label: str


@dataclass(frozen=True, slots=True)
class DuplicateCluster:
    """A group of copies (not a pair) with what varies, what it touches and what to do about it."""

    id: str
    category: str  # gha-steps, gha-job, gitlab-job, gitlab-script, compose-service, docker-run, shell…
    abstraction: str  # composite-action, reusable-workflow, yaml-anchor, compose-anchor, gitlab-extends…
    occurrences: tuple[Occurrence, ...]
    units_each: int
    lines_each: int
    parameters: tuple[Parameter, ...]
    touches: tuple[str, ...]
    exact: bool  # every copy is identical in canonical form
    note: str = ""
    #: near-miss groups only: units some copies have and others lack; `units_each` and `lines_each`
    #: then count only the shared units, while each occurrence spans its gaps too
    gaps: tuple[Gap, ...] = ()

    @property
    def copies(self) -> int:
        return len(self.occurrences)

    @property
    def duplicated_lines(self) -> int:
        return sum(o.lines for o in self.occurrences)

    @property
    def distinct_parameters(self) -> int:
        """Inputs the abstraction really needs: values that vary together (a service name repeated in
        a manifest's name, labels and selector) are one input, however many places use it."""
        return len({p.values for p in self.parameters})

    @property
    def lines_saved(self) -> int:
        """Lines removed by the abstraction, after paying for each call site and each parameter."""
        call_cost = 2 + self.distinct_parameters
        return max(0, (self.copies - 1) * self.lines_each - self.copies * call_cost + 2)

    @property
    def score(self) -> int:
        return self.lines_saved - 2 * self.distinct_parameters

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.path for o in self.occurrences))
