"""Units: the pieces of infrastructure that get copy-pasted, cut from parsed files with line spans.

Sequence units (GitHub steps, composite-action steps, GitLab script lines, Dockerfile instructions, the
commands of each shell-form RUN split at top-level `&&`/`;`/newlines, shell statements) belong to an
ordered container, so runs of them can be matched; whole units (GitHub jobs, GitLab jobs, compose
services, compose top-level blocks — `x-*` and each `networks`/`volumes`/`configs`/`secrets` entry and
block —, Dockerfile stages, shell functions, env key sets, Kubernetes manifests) are matched as wholes.
Every unit carries its exact and shape digests and its exact form (for parameters). A RUN command spans
the file lines its own words are on, so a chain inside a continued RUN points at exactly its lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core.dockerfile import Instruction, Stage
from core.dupes.canonical import digest, exact_form, shape_form, shell_tokens
from core.models import FileKind
from core.parsing import ParsedFile
from core.rules.dockerfile_shell import instruction_args
from core.rules.shell_words import Command, split_commands
from core.yamlnodes import MappingNode, Node, ScalarNode, get, items, last_line, scalar, seq, to_python

#: GitLab keys that are configuration, not jobs
GITLAB_RESERVED = frozenset(
    {"image", "services", "stages", "types", "before_script", "after_script", "variables", "cache",
     "include", "default", "workflow", "spec"}
)
#: compose top-level blocks whose entries are copy-pasted between files (beside `x-*` extensions)
COMPOSE_BLOCKS = ("networks", "volumes", "configs", "secrets")
#: what ends one command of a RUN at the top level (a newline is `;` in shell)
_SEPARATORS = frozenset({"&&", ";", "\n", ""})
_OPENERS = frozenset({"if", "for", "while", "until", "case", "select", "{"})
_CLOSERS = frozenset({"fi", "done", "esac", "}"})


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
    return units + compose_block_units(parsed)


def _block_unit(parsed: ParsedFile, kind: str, container: str, label: str, key: ScalarNode,
                node: Node) -> Unit:
    """A compose top-level block; `kind` keeps an `x-` block, a network and a whole `volumes:` apart."""
    unit = _unit("compose-block", parsed, container, 0, label, node, to_python(node),
                 start_line=key.start_mark.line + 1)
    return replace(unit, shape=digest([kind, shape_form(unit.form)]))


def compose_block_units(parsed: ParsedFile) -> list[Unit]:
    """`x-*` extension blocks, each entry of `networks`/`volumes`/`configs`/`secrets`, and each of those
    blocks whole (the scan's min-lines filter keeps only whole blocks long enough to matter)."""
    units: list[Unit] = []
    seen: set[int] = set()
    for key, node in items(parsed.docs[0]):
        name = str(key.value)
        if not isinstance(node, MappingNode) or id(node) in seen:
            continue  # an alias is the abstraction already, not a copy
        seen.add(id(node))
        if name.startswith("x-"):
            units.append(_block_unit(parsed, "x", "top", name, key, node))
        elif name in COMPOSE_BLOCKS:
            units.append(_block_unit(parsed, name, "top", name, key, node))
            for entry_key, entry in items(node):
                if isinstance(entry, MappingNode) and id(entry) not in seen:
                    seen.add(id(entry))
                    units.append(_block_unit(parsed, f"{name}-entry", name, f"{name}.{entry_key.value}",
                                             entry_key, entry))
    return units


def instruction_form(ins: Instruction, tokens: list[str] | None = None) -> dict[str, Any]:
    """What an instruction does, layout aside: keyword, sorted flags, words (shell tokens for RUN)."""
    flags = sorted(f"{k}={v}" for k, v in ins.flags)
    if ins.keyword == "RUN":
        return {"RUN": {"$shell": tokens if tokens is not None else shell_tokens(ins.shell_text)},
                "flags": flags}
    return {ins.keyword: ins.args.split(), "flags": flags}


def _tokens(commands: list[Command], trailing: frozenset[str] = frozenset({"\n"})) -> list[str]:
    """The tokens `shell_tokens` gives, from commands already split (a RUN is tokenized once)."""
    tokens: list[str] = []
    for command in commands:
        tokens.extend(word.text for word in command.words)
        if command.op:
            tokens.append(command.op)
    while tokens and tokens[-1] in trailing:
        tokens.pop()
    return tokens


def _ends_command(command: Command, nesting: int) -> bool:
    """A top-level `&&`, `;` or newline (or the `)` closing a top-level subshell) ends a RUN command."""
    if nesting > 0:
        return False
    return (command.depth == 0 and command.op in _SEPARATORS) or (command.op == ")" and command.depth == 1)


def _run_commands(parsed: ParsedFile, path: str, escape: str, stage: int,
                  ins: Instruction) -> tuple[list[str], list[Unit]]:
    """A shell-form RUN's tokens and its commands as units: split at top-level `&&`, `;` and newlines
    (pipelines, `||` and compound commands stay whole), each with the file lines its own words are on."""
    if "&&" not in ins.args and ";" not in ins.args:
        return shell_tokens(ins.args), []  # one command: no run of two can start here
    args = instruction_args(ins, parsed.lines, escape)
    commands = split_commands(args.text)
    units: list[Unit] = []
    current: list[Command] = []
    nesting = 0
    for command in commands:
        current.append(command)
        first = command.words[0].text if command.words else ""
        nesting += (first in _OPENERS) - (first in _CLOSERS and nesting > 0)
        if not _ends_command(command, nesting) and command is not commands[-1]:
            continue
        tokens = _tokens(current, _SEPARATORS)
        spans = [w for c in current for w in (*c.words, *(r for _, r in c.redirects))]
        if tokens and spans:
            start = args.source.locate(min(w.start for w in spans))[0]
            end = args.source.locate(max(max(w.start, w.end - 1) for w in spans))[0]
            form = {"RUN": {"$shell": tokens}}
            label = f"line {start} {tokens[0] if tokens[0] in _OPENERS else current[0].name or tokens[0]}"
            units.append(Unit("docker-command", path, f"stage {stage} line {ins.line}", len(units),
                              label, start, end, digest(form), digest(shape_form(form)), form))
        current = []
    return _tokens(commands), units


def _stage_unit(path: str, stage: Stage, forms: list[Any], digests: list[str]) -> Unit:
    """A whole stage: FROM (name ignored) and every instruction; the base is abstracted in the shape, so
    identical stages built FROM different images group with the base as their one parameter. The digests
    are made from the instructions' own, so a stage costs no second pass over its forms."""
    start = stage.instructions[0]
    flags = sorted(f"{k}={v}" for k, v in start.flags)
    form = {"FROM": stage.base, "from-flags": flags, "instructions": forms}
    return Unit("docker-stage", path, "stages", stage.index, f"stage {stage.name or stage.index}",
                start.line, stage.instructions[-1].end_line, digest([stage.base, flags, digests]),
                digest(["stage", flags, digests]), form)


def dockerfile_units(parsed: ParsedFile) -> list[Unit]:
    """Instructions (a sequence per stage), the commands of each RUN (a sequence per RUN) and whole stages."""
    dockerfile = parsed.dockerfile
    if dockerfile is None:
        return []
    path = parsed.path
    units: list[Unit] = []
    for stage in dockerfile.stages:
        forms: list[Any] = []
        digests: list[str] = []
        for i, ins in enumerate(stage.instructions):
            if ins.keyword == "FROM":
                continue
            tokens = None
            if ins.keyword == "RUN" and not ins.heredocs and not ins.is_json:
                tokens, commands = _run_commands(parsed, path, dockerfile.escape, stage.index, ins)
                units.extend(commands)
            form = instruction_form(ins, tokens)
            exact = digest(form)
            forms.append(form)
            digests.append(exact)
            units.append(Unit("docker-instruction", path, f"stage {stage.index}", i,
                              f"line {ins.line} {ins.keyword}", ins.line, ins.end_line,
                              exact, digest(shape_form(form)), form))
        if stage.instructions:
            units.append(_stage_unit(path, stage, forms, digests))
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
