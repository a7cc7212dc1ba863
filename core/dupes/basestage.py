"""Dockerfiles that open with the same FROM and the same instructions → one shared base Dockerfile.

`base_stage(cluster, index)` turns a "docker-run" cluster into a `Proposal`, or raises `NotProposable`
with the reason. It applies only when every copy starts right after its stage's FROM, every FROM names
the same image (no build args in it) and at least the first two instructions are identical in every
copy (a run whose tail varies — each service's own COPY or CMD — shares its identical head; a value that
varies in the head blocks it). The proposal creates `<common dir>/base.Dockerfile`
(`docker/base.Dockerfile` at the repository root) holding the FROM and the shared instructions as the
first copy writes them; each copy's FROM and shared lines become
`FROM ${BASE_IMAGE}`, with `ARG BASE_IMAGE=<project>-base:latest` and a how-to-build comment on top.
Before it is offered, the rewrite is checked: every file parses without problems, and each rewritten
Dockerfile with its `FROM ${BASE_IMAGE}` expanded into the base gives back the original instructions
(in canonical form).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from core.discovery import InfraIndex
from core.dockerfile import Dockerfile, Instruction, Stage, parse_dockerfile
from core.dupes.building import NotProposable, common_parent, dedup_proposal, slug
from core.dupes.canonical import shell_tokens
from core.dupes.model import DuplicateCluster, Occurrence
from core.patching import Proposal

ARG_NAME = "BASE_IMAGE"
_FROM_REF = "${" + ARG_NAME + "}"
_UNIT = re.compile(r"^\[(\d+)\]")


def _form(ins: Instruction) -> Any:
    """What an instruction does, without layout: keyword, sorted flags, words (shell tokens for RUN)."""
    flags = sorted(f"{k}={v}" for k, v in ins.flags)
    if ins.keyword == "RUN":
        return ["RUN", flags, shell_tokens(ins.shell_text)]
    if ins.keyword == "FROM":
        words = ins.args.split()
        name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
        return ["FROM", flags, words[0] if words else "", name]
    return [ins.keyword, flags, ins.args.split(), [h.body for h in ins.heredocs]]


def _stage_of(dockerfile: Dockerfile, occ: Occurrence) -> Stage:
    number = int(occ.container.split(" ", 1)[1])
    if number >= len(dockerfile.stages):
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    stage = dockerfile.stages[number]
    ins = stage.instructions
    if len(ins) < occ.index + occ.length or ins[occ.index].line != occ.start_line:
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    return stage


def _shared_length(cluster: DuplicateCluster) -> int:
    """How many instructions at the start of the run are identical in every copy: values that differ
    further down (each service's own COPY or CMD) stay in the copies, values in the prefix block it."""
    if not cluster.exact and not cluster.parameters:
        raise NotProposable(f"the copies differ ({cluster.note}); a shared base needs identical instructions")
    varying = [int(m.group(1)) for p in cluster.parameters if (m := _UNIT.match(p.where))]
    shared = min(varying, default=cluster.units_each)
    if shared < 2:
        names = ", ".join(dict.fromkeys(p.name for p in cluster.parameters if p.where.startswith("[0]")))
        raise NotProposable(f"the copies differ in {names or 'their first instructions'}; "
                            "a shared base needs identical instructions")
    return shared


def _check_copies(cluster: DuplicateCluster, index: InfraIndex,
                  shared: int) -> list[tuple[Dockerfile, Stage]]:
    found: list[tuple[Dockerfile, Stage]] = []
    for occ in cluster.occurrences:
        dockerfile = index.parsed[occ.path].dockerfile
        if dockerfile is None or dockerfile.problems:
            raise NotProposable(f"{occ.path} is not parsed cleanly; fix it first")
        stage = _stage_of(dockerfile, occ)
        if occ.index != 1:
            raise NotProposable(f"in {occ.path} the shared instructions do not start right after FROM; "
                                "a base image can only take the start of a stage")
        if any(i.keyword == "ARG" and i.args.split("=", 1)[0].strip() == ARG_NAME
               for i in dockerfile.instructions):
            raise NotProposable(f"{occ.path} already declares ARG {ARG_NAME}")
        moved = stage.instructions[1 : shared + 1]
        if any(i.keyword == "ARG" for i in moved):
            raise NotProposable("the shared instructions declare an ARG, and build args do not carry over "
                                "from a base image; move them by hand")
        if any(i.flag("from") is not None or "from=" in (i.flag("mount") or "") for i in moved):
            raise NotProposable(f"the shared instructions in {occ.path} read from another stage or image; "
                                "a separate base Dockerfile would not have it")
        found.append((dockerfile, stage))
    froms = {(s.base, tuple(sorted(s.instructions[0].flags))) for _, s in found}
    if len(froms) != 1:
        images = ", ".join(sorted(dict.fromkeys(s.base for _, s in found)))
        raise NotProposable(f"the copies start FROM different images ({images}); a shared base needs one")
    base = found[0][1].base
    if "$" in base:
        raise NotProposable(f"the FROM image {base} uses build args; write the base Dockerfile by hand")
    if len({d.escape for d, _ in found}) != 1:
        raise NotProposable("the Dockerfiles use different escape characters")
    return found


def _base_path(cluster: DuplicateCluster, index: InfraIndex) -> tuple[str, str]:
    """Where the base Dockerfile goes and the build context its build command uses."""
    folders = {str(Path(o.path).parent) for o in cluster.occurrences}
    common = next(iter(folders)) if len(folders) == 1 else common_parent(folders)
    at_root = common in ("", ".")
    path = "docker/base.Dockerfile" if at_root else f"{common}/base.Dockerfile"
    if path in index.files or (index.root / path).exists():
        raise NotProposable(f"{path} exists already; add the shared instructions there by hand")
    return path, "." if at_root else common


def _span(stage: Stage, shared: int) -> tuple[int, int]:
    """1-based first and last line of a copy's shared instructions (right after its FROM)."""
    return stage.instructions[1].line, stage.instructions[shared].end_line


def _base_text(cluster: DuplicateCluster, index: InfraIndex, dockerfile: Dockerfile, stage: Stage,
               shared: int) -> str:
    lines = index.parsed[cluster.occurrences[0].path].text.split("\n")
    start, end = _span(stage, shared)
    directives = [f"# {k}={v}" for k, v in dockerfile.directives.items()]
    flags = "".join(f"--{k}={v} " if v else f"--{k} " for k, v in stage.instructions[0].flags)
    header = [*directives, *([""] if directives else []),
              f"# Shared base of {', '.join(cluster.files)}",
              "# (made by devops-tui from copy-pasted instructions; build it before them).",
              f"FROM {flags}{stage.base}"]
    return "\n".join(header + lines[start - 1 : end]) + "\n"


def _rewrite(cluster: DuplicateCluster, index: InfraIndex, base_path: str, build: str,
             tag: str, found: list[tuple[Dockerfile, Stage]], shared: int) -> dict[str, list[str]]:
    """Each copy's FROM and shared lines replaced by `FROM ${BASE_IMAGE}`, bottom-up per file."""
    new_texts: dict[str, list[str]] = {}
    by_file: dict[str, list[tuple[Occurrence, Stage]]] = {}
    for occ, (_, stage) in zip(cluster.occurrences, found, strict=True):
        by_file.setdefault(occ.path, []).append((occ, stage))
    for path, copies in by_file.items():
        lines = index.parsed[path].text.split("\n")
        for _, stage in sorted(copies, key=lambda c: -c[0].start_line):
            from_ins = stage.instructions[0]
            flags = "".join(f"--{k}={v} " if v else f"--{k} " for k, v in from_ins.flags)
            name = f" AS {stage.name}" if stage.name else ""
            start, end = _span(stage, shared)
            del lines[start - 1 : end]
            lines[from_ins.line - 1 : from_ins.end_line] = [f"FROM {flags}{_FROM_REF}{name}"]
        dockerfile = index.parsed[path].dockerfile
        assert dockerfile is not None  # checked in _check_copies
        top = dockerfile.instructions[0].line - 1
        lines[top:top] = [f"# {ARG_NAME} is built from {base_path} first:",
                          f"#   {build}",
                          f"ARG {ARG_NAME}={tag}"]
        new_texts[path] = lines
    return new_texts


def _expanded(dockerfile: Dockerfile, base: Dockerfile) -> list[Any]:
    """The rewritten file's instructions with each `FROM ${BASE_IMAGE}` replaced by the base's content."""
    out: list[Any] = []
    for ins in dockerfile.instructions:
        if ins.keyword == "ARG" and ins.stage == -1 and ins.args.split("=", 1)[0].strip() == ARG_NAME:
            continue
        form = _form(ins)
        if ins.keyword == "FROM" and form[2] == _FROM_REF:
            base_from = _form(base.instructions[0])
            out.append(["FROM", form[1], base_from[2], form[3]])
            out.extend(_form(i) for i in base.instructions[1:])
        else:
            out.append(form)
    return out


def _verify(cluster: DuplicateCluster, index: InfraIndex, base_text: str,
            new_texts: dict[str, list[str]]) -> None:
    base = parse_dockerfile(base_text)
    if base.problems or len(base.stages) != 1:
        raise NotProposable(f"the base Dockerfile would not parse cleanly: {base.problems}")
    for path, lines in new_texts.items():
        rewritten = parse_dockerfile("\n".join(lines))
        if rewritten.problems:
            problem = rewritten.problems[0].message
            raise NotProposable(f"the rewritten {path} would not parse cleanly: {problem}")
        original = index.parsed[path].dockerfile
        assert original is not None
        if _expanded(rewritten, base) != [_form(i) for i in original.instructions]:
            raise NotProposable(f"expanding the base into {path} does not give back its instructions")


def base_stage(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked shared-base proposal for a "docker-run" cluster, or `NotProposable` saying why not."""
    shared = _shared_length(cluster)
    found = _check_copies(cluster, index, shared)
    base_path, context = _base_path(cluster, index)
    project = re.sub(r"^[^a-z0-9]+", "", slug(index.root.name)) or "project"
    tag = f"{project}-base:latest"
    build = f"docker build -f {base_path} -t {project}-base {context}"
    base_text = _base_text(cluster, index, *found[0], shared)
    new_texts = _rewrite(cluster, index, base_path, build, tag, found, shared)
    _verify(cluster, index, base_text, new_texts)
    start, end = _span(found[0][1], shared)
    line_count = end - start + 1
    copies_paths = any(ins.keyword in ("COPY", "ADD") and ins.flag("from") is None
                       for ins in found[0][1].instructions[1 : shared + 1])
    context_note = (" COPY/ADD in the shared part now read from the base build's context, so check that "
                    "the files they copy are the same for every image." if copies_paths else "")
    return dedup_proposal(
        index,
        title=f"Move {shared} instructions shared by {cluster.copies} Dockerfiles into {base_path}",
        rationale=(
            f"{', '.join(cluster.files)} start FROM {found[0][1].base} with the same {shared} "
            f"instructions ({line_count} lines each). {base_path} holds them once and each Dockerfile "
            f"builds FROM ${{{ARG_NAME}}} (default {tag}). The build pipeline must build the base first "
            f"(`{build}`, or a bake/compose target) and pass "
            f"--build-arg {ARG_NAME}=… where the tag differs.{context_note} Adapt the image name and "
            "registry to your setup."
        ),
        created={base_path: base_text}, modified=new_texts,
    )
