"""Units: the pieces of infrastructure that get copy-pasted, cut from parsed files with line spans.

Sequence units (GitHub steps, composite-action steps, GitLab script lines, Dockerfile instructions,
shell statements) belong to an ordered container, so runs of them can be matched; whole units (GitHub
jobs, GitLab jobs, compose services, Dockerfile stages, shell functions, env key sets) are matched as
wholes. Every unit carries its exact and shape digests and its exact form (for parameters).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core.dupes.canonical import digest, exact_form, shape_form, shell_tokens
from core.models import FileKind
from core.parsing import ParsedFile
from core.yamlnodes import MappingNode, Node, get, items, last_line, scalar, seq, to_python

#: GitLab keys that are configuration, not jobs
GITLAB_RESERVED = frozenset(
    {"image", "services", "stages", "types", "before_script", "after_script", "variables", "cache",
     "include", "default", "workflow", "spec"}
)


@dataclass(frozen=True, slots=True)
class Unit:
    category: str
    path: str
    container: str
    index: int
    label: str
    start_line: int
    end_line: int
    exact: str
    shape: str
    form: Any

    @property
    def lines(self) -> int:
        return self.end_line - self.start_line + 1


def _last_content_line(node: Node) -> int:
    """1-based last line of a node's content."""
    return last_line(node) + 1


def _unit(category: str, parsed: ParsedFile, container: str, index: int, label: str, node: Node,
          value: Any, start_line: int | None = None) -> Unit:
    form = exact_form(value)
    return Unit(
        category=category,
        path=parsed.path,
        container=container,
        index=index,
        label=label,
        start_line=start_line or node.start_mark.line + 1,
        end_line=_last_content_line(node),
        exact=digest(form),
        shape=digest(shape_form(form)),
        form=form,
    )


def _step_label(value: Any, index: int) -> str:
    if isinstance(value, dict):
        name = value.get("name") or value.get("uses") or str(value.get("run", "")).split("\n")[0][:40]
        return f"step {index + 1} ({name})" if name else f"step {index + 1}"
    return f"step {index + 1}"


def _gha_steps(parsed: ParsedFile, steps_node: Node | None, container: str) -> list[Unit]:
    units = []
    for i, step in enumerate(seq(steps_node)):
        if not isinstance(step, MappingNode):
            continue
        value = to_python(step)
        units.append(_unit("gha-step", parsed, container, i, _step_label(value, i), step, value))
    return units


def workflow_units(parsed: ParsedFile) -> list[Unit]:
    if not parsed.docs:
        return []
    doc = parsed.docs[0]
    units: list[Unit] = []
    if parsed.kind is FileKind.GHA_ACTION:
        return _gha_steps(parsed, get(get(doc, "runs"), "steps"), "runs.steps")
    seen: set[int] = set()
    for key, job in items(get(doc, "jobs")):
        if not isinstance(job, MappingNode) or id(job) in seen:
            continue  # an alias (`b: *a`) is the same node as its anchor: the abstraction, not a copy
        seen.add(id(job))
        value = to_python(job)
        if "uses" in value:
            continue  # a call of a reusable workflow is the abstraction already, not a copy
        units.append(_unit("gha-job", parsed, "jobs", 0, f"job {key.value}", job, value,
                           start_line=key.start_mark.line + 1))
        units.extend(_gha_steps(parsed, get(job, "steps"), f"jobs.{key.value}.steps"))
    return units


def gitlab_units(parsed: ParsedFile) -> list[Unit]:
    if not parsed.docs:
        return []
    units: list[Unit] = []
    for key, job in items(parsed.docs[0]):
        name = key.value
        if name in GITLAB_RESERVED or not isinstance(job, MappingNode):
            continue
        if name.startswith("."):
            continue  # hidden jobs are templates already
        value = to_python(job)
        units.append(_unit("gitlab-job", parsed, "jobs", 0, f"job {name}", job, value,
                           start_line=key.start_mark.line + 1))
        for script_key in ("before_script", "script", "after_script"):
            for i, line in enumerate(seq(get(job, script_key))):
                text = scalar(line)
                if text is None:
                    continue
                units.append(_unit("gitlab-script", parsed, f"{name}.{script_key}", i,
                                   f"{name} {script_key}[{i}]", line, {"script": text}))
    return units


def compose_units(parsed: ParsedFile) -> list[Unit]:
    if not parsed.docs:
        return []
    units: list[Unit] = []
    for key, service in items(get(parsed.docs[0], "services")):
        if isinstance(service, MappingNode):
            value = to_python(service)
            if isinstance(value, dict) and "extends" in value:
                continue  # already shares through `extends`; what is left is its own
            unit = _unit("compose-service", parsed, "services", 0, f"service {key.value}", service, value,
                         start_line=key.start_mark.line + 1)
            # Services are grouped by the settings they have, not their values: copies that differ in
            # image, ports or one extra variable still share restart/logging/build boilerplate, which the
            # anchor proposal takes (only settings equal in every copy go into the shared block).
            units.append(replace(unit, shape=digest(sorted(unit.form))))
    return units


def dockerfile_units(parsed: ParsedFile) -> list[Unit]:
    dockerfile = parsed.dockerfile
    if dockerfile is None:
        return []
    units: list[Unit] = []
    for stage in dockerfile.stages:
        for i, ins in enumerate(stage.instructions):
            if ins.keyword == "FROM":
                continue
            if ins.keyword == "RUN":
                value: Any = {"RUN": {"$shell": shell_tokens(ins.shell_text)},
                              "flags": sorted(f"{k}={v}" for k, v in ins.flags)}
            else:
                value = {ins.keyword: ins.args.split(), "flags": sorted(f"{k}={v}" for k, v in ins.flags)}
            form = value
            units.append(Unit("docker-instruction", parsed.path, f"stage {stage.index}", i,
                              f"line {ins.line} {ins.keyword}", ins.line, ins.end_line,
                              digest(form), digest(shape_form(form)), form))
    return units


_FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\s*\)\s*\{?\s*$|"
                       r"^\s*function\s+([A-Za-z_][A-Za-z0-9_-]*)\s*\{?\s*$")


def shell_units(parsed: ParsedFile) -> list[Unit]:
    """Functions as whole units; top-level logical lines as a statement sequence."""
    units: list[Unit] = []
    lines = parsed.lines
    i = 0
    statement_index = 0
    while i < len(lines):
        line = lines[i]
        match = _FUNCTION.match(line)
        if match:
            name = match.group(1) or match.group(2)
            depth = line.count("{") - line.count("}")
            j = i
            while depth > 0 or (j == i and "{" not in line):
                j += 1
                if j >= len(lines):
                    break
                depth += lines[j].count("{") - lines[j].count("}")
            end = min(j, len(lines) - 1)
            body = "\n".join(lines[i + 1 : end])
            form = {"function": {"$shell": shell_tokens(body)}}
            units.append(Unit("shell-function", parsed.path, "functions", 0, f"function {name}",
                              i + 1, end + 1, digest(form), digest(shape_form(form)), form))
            i = end + 1
            continue
        stripped = line.strip()
        start = i
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = lines[i]
        if stripped and not stripped.startswith("#") and not (start == 0 and stripped.startswith("#!")):
            text = "\n".join(lines[start : i + 1])
            form = {"sh": {"$shell": shell_tokens(text)}}
            units.append(Unit("shell-statement", parsed.path, "top", statement_index,
                              f"line {start + 1}", start + 1, i + 1, digest(form), digest(shape_form(form)),
                              form))
            statement_index += 1
        i += 1
    return units


def env_units(parsed: ParsedFile) -> list[Unit]:
    if len(parsed.env) < 3:
        return []
    keys = sorted(e.key for e in parsed.env)
    form = {"env-keys": keys}
    return [Unit("env-keys", parsed.path, "file", 0, "variables", parsed.env[0].line, parsed.env[-1].line,
                 digest(form), digest(form), form)]


def k8s_units(parsed: ParsedFile) -> list[Unit]:
    """Each Kubernetes document as a whole unit: copy-pasted manifests are a kustomize base waiting."""
    units: list[Unit] = []
    for number, doc in enumerate(parsed.docs):
        kind, name = scalar(get(doc, "kind")), scalar(get(get(doc, "metadata"), "name"))
        if not isinstance(doc, MappingNode) or not kind:
            continue
        unit = _unit("k8s-manifest", parsed, "documents", number, f"{kind} {name or number}", doc,
                     to_python(doc))
        units.append(replace(unit, shape=digest(shape_form(unit.form, identity=False))))
    return units


_UNITS_BY_KIND: dict[FileKind, Callable[[ParsedFile], list[Unit]]] = {
    FileKind.GHA_WORKFLOW: workflow_units, FileKind.GHA_ACTION: workflow_units,
    FileKind.GITLAB_CI: gitlab_units, FileKind.COMPOSE: compose_units, FileKind.DOCKERFILE: dockerfile_units,
    FileKind.SHELL: shell_units, FileKind.ENV: env_units, FileKind.K8S: k8s_units,
}


def units_of(parsed: ParsedFile) -> list[Unit]:
    """Every unit of one parsed file (empty for kinds without units or unparseable files)."""
    build = _UNITS_BY_KIND.get(parsed.kind)
    return build(parsed) if build is not None else []
