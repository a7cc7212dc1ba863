"""Whole Dockerfile stages and RUN command chains repeated across Dockerfiles: what can be proposed.

Contract: `stage_proposal(cluster, index)` takes a "docker-stage" cluster (stages identical in every
instruction, stage names ignored) whose copies are built FROM the same image. When every copy is in one
Dockerfile, each later copy becomes `FROM <first copy's name> AS <its name>` (an image built FROM a stage
has all of that stage's files and settings), checked by parsing the result and expanding each such FROM
back into the first stage's instructions. Across Dockerfiles it returns the checked shared-base
proposal of `core.dupes.basestage` (the base Dockerfile holds the whole stage; each copy becomes
`FROM ${BASE_IMAGE} AS <its name>`). Stages that differ only in their FROM image, or are too short to be
worth an image, raise `NotProposable` with the reason.
`command_chain_proposal` always raises: the same `&&` chain inside different RUN instructions cannot be
shared by a Dockerfile rewrite alone (Dockerfiles have no include), so the reason says what to do.
"""

from __future__ import annotations

from dataclasses import replace

from core.discovery import InfraIndex
from core.dockerfile import Dockerfile, Stage, parse_dockerfile
from core.dupes.basestage import base_stage
from core.dupes.building import NotProposable, dedup_proposal, slug
from core.dupes.model import DuplicateCluster, Occurrence
from core.dupes.units import instruction_form
from core.patching import Proposal


def _stage(index: InfraIndex, occ: Occurrence) -> Stage:
    dockerfile = index.parsed[occ.path].dockerfile
    if dockerfile is None or dockerfile.problems:
        raise NotProposable(f"{occ.path} is not parsed cleanly; fix it first")
    if occ.index >= len(dockerfile.stages) or dockerfile.stages[occ.index].line != occ.start_line:
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    return dockerfile.stages[occ.index]


def _flags(stage: Stage) -> str:
    return "".join(f"--{k}={v} " if v else f"--{k} " for k, v in stage.instructions[0].flags)


def _expanded(dockerfile: Dockerfile, shared: Stage, names: set[str]) -> list[object]:
    """Instruction forms with each `FROM <shared> AS <copy>` replaced by the shared stage's own."""
    out: list[object] = []
    for stage in dockerfile.stages:
        if stage.base == shared.name and (stage.name or "") in names:
            out.append(["FROM", _flags(stage), shared.base])
            out.extend(instruction_form(i) for i in shared.instructions[1:])
        else:
            out.append(["FROM", _flags(stage), stage.base])
        out.extend(instruction_form(i) for i in stage.instructions[1:])
    return out


def _from_first_stage(cluster: DuplicateCluster, index: InfraIndex, stages: list[Stage]) -> Proposal:
    """Copies in one Dockerfile: the later ones build FROM the first (see the module docstring)."""
    path = cluster.files[0]
    ordered = sorted(stages, key=lambda s: s.line)
    first, later = ordered[0], ordered[1:]
    if not first.name:
        raise NotProposable(f"name the stage on line {first.line} of {path} (`FROM … AS base`) so the "
                            "identical stages after it can build FROM it")
    lines = index.parsed[path].text.split("\n")
    for stage in reversed(later):
        name = f" AS {stage.name}" if stage.name else ""
        end = stage.instructions[-1].end_line
        lines[stage.line - 1 : end] = [f"FROM {_flags(stage)}{first.name}{name}"]
    new_text = "\n".join(lines)
    rewritten = parse_dockerfile(new_text)
    original = index.parsed[path].dockerfile
    assert original is not None  # checked by _stage
    names = {s.name or "" for s in later}
    if rewritten.problems or _expanded(rewritten, first, names) != _expanded(original, first, set()):
        raise NotProposable(f"expanding the rewritten {path} does not give back its stages")
    return dedup_proposal(
        index,
        title=f"Build {cluster.copies - 1} identical stage(s) of {path} FROM its stage {first.name}",
        rationale=(f"The stages on lines {', '.join(str(s.line) for s in ordered)} are the same "
                   f"({cluster.lines_each} lines each). A stage built FROM {first.name} has all its files "
                   "and settings, so the copies shrink to one FROM line and are built once."),
        modified={path: new_text},
    )


def stage_proposal(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The shared base image for identical stages (see the module docstring)."""
    stages = [_stage(index, occ) for occ in cluster.occurrences]
    bases = list(dict.fromkeys(s.base for s in stages))
    if len(bases) > 1:
        raise NotProposable(
            f"the stages are the same apart from their FROM image ({', '.join(bases)}); a shared base image "
            "is built FROM one image, so align the FROM lines first (or pass the image as a build arg of "
            "a shared base Dockerfile by hand)")
    if len(cluster.files) == 1:
        return _from_first_stage(cluster, index, stages)
    for occ, stage in zip(cluster.occurrences, stages, strict=True):
        dockerfile = index.parsed[occ.path].dockerfile
        if dockerfile is not None and stage.base.lower() in dockerfile.stage_names():
            raise NotProposable(f"in {occ.path} the stage is built FROM its earlier stage {stage.base}; a "
                                "separate base Dockerfile would not have that stage")
    if any(len(s.instructions) < 3 for s in stages):
        raise NotProposable("a stage of FROM and one instruction is not worth a separate base image")
    runs = tuple(
        Occurrence(occ.path, f"stage {s.index}", 1, len(s.instructions) - 1, s.instructions[1].line,
                   s.instructions[-1].end_line, occ.label)
        for occ, s in zip(cluster.occurrences, stages, strict=True)
    )
    as_run = replace(cluster, category="docker-run", occurrences=runs,
                     units_each=len(stages[0].instructions) - 1, parameters=(), exact=True, note="")
    proposal = base_stage(as_run, index)
    return replace(
        proposal,
        title=f"Build the stage shared by {cluster.copies} Dockerfiles once, as a base image",
        rationale=f"Every instruction of the stage is the same in {', '.join(cluster.files)}. "
                  + proposal.rationale,
    )


def command_chain_proposal(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """Never a rewrite: the reason says how to share a chain of RUN commands by hand."""
    first = cluster.occurrences[0]
    words = first.label.split(" ")  # "line 4 apt-get … line 7 rm": the first command names it
    script = f"docker/{slug(words[2] if len(words) > 2 else 'setup')}.sh"
    raise NotProposable(
        f"the same {cluster.units_each} commands run inside different RUN instructions of "
        f"{', '.join(cluster.files)}; a Dockerfile cannot include another, so move them into a script "
        f"(for example {script}) that each image COPYs and RUNs, or into a shared base image when they "
        "come first in every stage")
