"""GitLab script lines copied across jobs → a hidden job holding them, used through `!reference`.

Contract: `gitlab_reference(cluster, index)` turns a `gitlab-script` group (exact, or near-miss with
gaps) into a checked `Proposal`, or raises `NotProposable` with the reason. The shared lines move, as
the first copy wrote them, into a hidden job `.<slug>-script:` under the key the first copy used
(`script`, `before_script` or `after_script`); each copy's lines become one
`- !reference [.<slug>-script, script]` item (GitLab flattens nested script arrays). The template goes
before the first job using it when every copy is in one file; across files, into the file every copy's
file includes (or that includes them all) through local `include:`; otherwise there is no proposal.

A value that differs between copies becomes a CI variable: `$NAME` in the template, `NAME: "value"` in
each job's `variables:`. Only a whole shell word made of characters that need no quoting qualifies (for
`KEY=value` words, the value), and only when no job already sets or uses `$NAME` differently. A
near-miss group shares each run of common lines between its gaps as its own template, when every run
still saves lines; each copy keeps its own lines in between.

The check before offering: every rewritten file is parsed again, every `!reference` resolved across the
pipeline's files, and each job's scripts (flattened, the new variables substituted back, compared as
shell tokens), variables (minus those added) and other keys must equal the original; every other
top-level key must be unchanged. Edits are line-placed: nothing outside the replaced spans moves.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from core.classify import gitlab_local_includes
from core.discovery import InfraIndex
from core.dupes.building import NotProposable, dedup_proposal, file_lines, indent_of, slug
from core.dupes.canonical import shell_tokens
from core.dupes.model import DuplicateCluster, Occurrence
from core.dupes.units import GITLAB_RESERVED
from core.models import FileKind
from core.patching import Proposal
from core.rules.shell_words import Word, split_commands
from core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    get,
    items,
    last_line,
    resolve_references,
    to_python,
)

SCRIPT_KEYS = ("before_script", "script", "after_script")
#: what `$NAME` may stand for unquoted: one word, no globbing, no expansion, no quoting needed
_SAFE_WORD = re.compile(r"[A-Za-z0-9_./:@%+,=-]+")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
_RESERVED_PREFIXES = ("CI_", "GITLAB_", "RUNNER_", "FF_", "DOCKER_")
#: lines one template costs beyond its shared lines: `.name:` and `script:`
_TEMPLATE_HEADER = 2


@dataclass(slots=True)
class _Copy:
    """One copy: its job, the script key its lines live under, and its items split into shared ones."""

    occ: Occurrence
    job: str
    key: str
    job_key: ScalarNode
    job_node: MappingNode
    items: list[ScalarNode]
    shared: list[int]  # positions in `items` of the shared lines, in order
    needed: dict[str, str] = field(default_factory=dict)  # variable -> value this copy needs


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    where: str  # the parameter's `[j].script#k`
    values: tuple[str, ...]
    assignment: str | None  # for `KEY=value` words: the KEY kept in the template


def _find_copy(cluster: DuplicateCluster, i: int, index: InfraIndex) -> _Copy:
    occ = cluster.occurrences[i]
    parsed = index.parsed[occ.path]
    if len(parsed.docs) != 1 or not isinstance(parsed.docs[0], MappingNode):
        raise NotProposable(f"{occ.path} is not a single GitLab CI document")
    job, _, key = occ.container.rpartition(".")
    found = [(k, v) for k, v in parsed.docs[0].value if isinstance(k, ScalarNode) and k.value == job]
    if len(found) != 1 or not isinstance(found[0][1], MappingNode):
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    job_key, job_node = found[0]
    own = {k.value: v for k, v in job_node.value if isinstance(k, ScalarNode)}
    script = own.get(key)
    if script is None:
        raise NotProposable(f"the {key} of job {job} comes from a `<<` merge; share it where it is written")
    if not isinstance(script, SequenceNode) or script.flow_style or job_node.flow_style:
        raise NotProposable(f"the {key} of job {job} is written inline; write it as a block list first")
    run = script.value[occ.index : occ.index + occ.length]
    if len(run) != occ.length or not all(isinstance(n, ScalarNode) for n in run):
        raise NotProposable(f"the copied lines of job {job} are interrupted by a nested list or a reference")
    if run[0].start_mark.line + 1 != occ.start_line:
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    extra = {g.position for g in cluster.gaps if g.occurrence == i and g.kind != "missing"}
    shared = [n for n in range(len(run)) if n not in extra]
    if len(shared) != cluster.units_each:
        raise NotProposable(f"{occ.path} changed since the scan; rescan")
    return _Copy(occ, job, key, job_key, job_node, [n for n in run if isinstance(n, ScalarNode)], shared)


def _pieces(cluster: DuplicateCluster, copies: list[_Copy], index: InfraIndex) -> list[tuple[int, int]]:
    """Runs of shared lines between the gaps: one template each, each saving lines on its own."""
    cuts = sorted({g.after for g in cluster.gaps if 0 < g.after < cluster.units_each})
    bounds = [0, *cuts, cluster.units_each]
    pieces = list(pairwise(bounds))
    for start, end in pieces:
        for copy in copies:
            positions = copy.shared[start:end]
            if positions != list(range(positions[0], positions[0] + len(positions))):
                raise NotProposable("the gaps of the copies do not line up; share the lines by hand")
        source = file_lines(index.parsed[copies[0].occ.path])
        lines = sum(_end(node, source) - node.start_mark.line + 1
                    for node in (copies[0].items[p] for p in copies[0].shared[start:end]))
        saved = len(copies) * lines - (lines + _TEMPLATE_HEADER) - len(copies)
        if end - start < 2 or saved <= 0:
            what = "the shared lines" if len(pieces) == 1 else f"shared lines {start + 1}-{end}"
            raise NotProposable(f"{what} save no lines once moved into a template and referenced "
                                f"from {len(copies)} jobs; the gaps split them too finely")
    return pieces


def _end(node: Node, lines: list[str], indent: int | None = None) -> int:
    """0-based last line of a node written in block style under a key or dash at column `indent` (the
    node's line's indent by default): past `last_line`, the lines indented deeper than `indent` (comments
    inside the block) are taken as well, so a rewrite never leaves them orphaned."""
    indent = indent_of(lines[node.start_mark.line]) if indent is None else indent
    last = last_line(node)
    for i in range(last + 1, len(lines)):
        if lines[i].strip() and indent_of(lines[i]) <= indent:
            break
        if lines[i].strip():
            last = i
    return last


def _variable_name(param: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", param).strip("_").upper() or "VALUE"
    if name[0].isdigit() or name.startswith(_RESERVED_PREFIXES):
        name = f"SHARED_{name}"
    return name


def _variables(cluster: DuplicateCluster) -> list[_Variable]:
    """One CI variable per distinct set of varying values, or the reason a value cannot be one."""
    out: list[_Variable] = []
    by_values: dict[tuple[str, ...], str] = {}
    used: set[str] = set()
    for param in cluster.parameters:
        if "script#" not in param.where:
            raise NotProposable(f"the copies differ in {param.where}, which is not a script word")
        assignments = [_ASSIGNMENT.fullmatch(v) for v in param.values]
        keys = {m.group(1) for m in assignments if m}
        assignment = next(iter(keys)) if all(assignments) and len(keys) == 1 else None
        values = tuple(m.group(2) for m in assignments if m) if assignment else param.values
        for value in values:
            if not _SAFE_WORD.fullmatch(value) or (assignment is None and _ASSIGNMENT.fullmatch(value)):
                raise NotProposable(f"the copies differ in {value!r}, which is not a plain shell word; "
                                    "a CI variable could not stand for it unquoted")
        name = by_values.get(values)
        if name is None:
            base = _variable_name(param.name)
            name, n = base, 2
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            by_values[values] = name
        out.append(_Variable(name, param.where, values, assignment))
    return out


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"\$(?:{name}\b|\{{{name}\}})", text) is not None


def _defined(job: str, roots: list[Node], depth: int = 0) -> dict[str, Any]:
    """The variables a job gets from its pipeline: global ones, then its `extends:` chain, then its own."""
    out: dict[str, Any] = {}
    if depth == 0:
        for root in reversed(roots):
            out.update(_plain(resolve_references(get(root, "variables"), roots)))
    for node in _lineage(job, roots):
        out.update(_plain(resolve_references(get(node, "variables"), roots)))
    return out


def _lineage(job: str, roots: list[Node], depth: int = 0) -> list[Node]:
    """The job's `extends:` ancestors, farthest first, then the job itself."""
    node = next((get(r, job) for r in roots if get(r, job) is not None), None)
    if node is None or depth > 10:
        return []
    parent = to_python(get(node, "extends"))
    out: list[Node] = []
    for p in [parent] if isinstance(parent, str) else parent if isinstance(parent, list) else []:
        out.extend(_lineage(str(p), roots, depth + 1))
    return [*out, node]


def _runs_in(job: str, roots: list[Node]) -> str:
    """Everything GitLab runs or reads for a job, as text: the job, what it extends, and the defaults."""
    nodes = [*_lineage(job, roots)]
    for root in roots:
        nodes.extend(n for key in ("default", "before_script", "after_script")
                     if (n := get(root, key)) is not None)
    return json.dumps([resolve_references(n, roots) for n in nodes], default=str)


def _plain(variables: Any) -> dict[str, Any]:
    if not isinstance(variables, dict):
        return {}
    return {k: v.get("value") if isinstance(v, dict) else v for k, v in variables.items()}


def _assign_values(copies: list[_Copy], variables: list[_Variable], roots: list[Node]) -> None:
    """Fill each copy's needed variables; refuse when its job already sets or uses one differently."""
    for i, copy in enumerate(copies):
        for var in variables:
            value = var.values[i]
            if copy.needed.setdefault(var.name, value) != value:
                raise NotProposable(f"job {copy.job} holds two copies that need different values of "
                                    f"${var.name}")
    by_job: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for copy in copies:
        by_job[(copy.occ.path, copy.job)].update(copy.needed)
    for (_, job), needed in by_job.items():
        defined = _defined(job, roots)
        text = _runs_in(job, roots)
        for name, value in needed.items():
            if name in defined and str(defined[name]) != value:
                raise NotProposable(f"job {job} already sets {name} to {defined[name]!r}, but its copy needs "
                                    f"{value!r}; rename one of them first")
            if name not in defined and _mentions(text, name):
                raise NotProposable(f"job {job} already uses ${name} (a project or runner variable?); "
                                    "a new job variable would change it")


def _word(text: str, position: int) -> Word | None:
    """The shell word at token `position` of `text`, counted as `shell_tokens` counts."""
    n = 0
    for command in split_commands(text):
        for word in command.words:
            if n == position:
                return word
            n += 1
        if command.op:
            n += 1
    return None


def _substituted(text: str, subs: list[tuple[int, str, str]]) -> str:
    """`text` with each (token position, expected word, replacement) word replaced, quotes and all."""
    spans = []
    for position, expected, replacement in subs:
        word = _word(text, position)
        if word is None or word.text != expected:
            raise NotProposable(f"could not find the varying word {expected!r} in {text!r}")
        spans.append((word.start, word.end, replacement))
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _item_lines(value: str, dash: int) -> list[str]:
    """A script item for `value`: plain when that reads back the same, else a block or a JSON string."""
    pad = " " * dash
    candidates = []
    if "\n" not in value:
        candidates.append([f"{pad}- {value}"])
    else:
        chomp = "" if value.endswith("\n") and not value.endswith("\n\n") else "-" if not value.endswith(
            "\n") else "+"
        body = value[:-1] if value.endswith("\n") else value
        candidates.append([f"{pad}- |{chomp}", *(f"{pad}  {t}" if t else "" for t in body.split("\n"))])
    candidates.append([f"{pad}- {json.dumps(value)}"])
    for lines in candidates:
        docs, problem = compose_documents("\n".join(lines) + "\n")
        if problem is None and docs and to_python(docs[0]) == [value]:
            return lines
    raise NotProposable(f"could not write the script line {value!r} back as YAML")


def _template_items(copy: _Copy, positions: list[int], variables: list[_Variable], lines: list[str],
                    start: int) -> list[str]:
    """The first copy's lines for shared units `start…`, varying words turned into `$NAME`."""
    subs: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for var in variables:
        head, _, token = var.where.partition("].script#")
        j = int(head.lstrip("[")) - start
        if 0 <= j < len(positions):
            word = f"{var.assignment}={var.values[0]}" if var.assignment else var.values[0]
            ref = f"{var.assignment}=${var.name}" if var.assignment else f"${var.name}"
            subs[j].append((int(token), word, ref))
    out: list[str] = []
    first = copy.items[positions[0]]
    for j, position in enumerate(positions):
        node = copy.items[position]
        begin, end = node.start_mark.line, _end(node, lines)
        if j > 0:
            out.extend(lines[_end(copy.items[positions[j - 1]], lines) + 1 : begin])  # comments between
        if j not in subs:
            out.extend(lines[begin : end + 1])
            continue
        new_value = _substituted(str(node.value), subs[j])
        line = lines[begin]
        column = node.start_mark.column
        plain = not node.style and begin == node.end_mark.line and line[column:].startswith(node.value)
        if plain and _item_lines(new_value, 0) == [f"- {new_value}"]:
            out.append(line[:column] + new_value + line[column + len(node.value) :])
        else:
            out.extend(_item_lines(new_value, indent_of(line)))
    return _reindent(out, indent_of(lines[first.start_mark.line]), 4)


def _reindent(lines: list[str], dash: int, target: int) -> list[str]:
    delta = target - dash
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif delta >= 0:
            out.append(" " * delta + line)
        elif indent_of(line) >= -delta:
            out.append(line[-delta:])
        elif line.lstrip().startswith("#"):
            out.append(" " * target + line.lstrip())
        else:
            raise NotProposable("the copied lines are indented less than their list; reformat them first")
    return out


def _dash(lines: list[str], node: ScalarNode, copy: _Copy) -> int:
    line = lines[node.start_mark.line]
    if not line.lstrip().startswith("-"):
        raise NotProposable(f"the {copy.key} of job {copy.job} does not start each line with `-`")
    return indent_of(line)


def _reach(path: str, edges: dict[str, list[str]]) -> set[str]:
    seen, todo = {path}, [path]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _gitlab_files(index: InfraIndex) -> list[str]:
    return sorted(p for p, parsed in index.parsed.items()
                  if parsed.kind is FileKind.GITLAB_CI and parsed.docs)


def _home(cluster: DuplicateCluster, index: InfraIndex) -> str:
    """The file the template goes in: the copies' own file, or one linked to all of them by `include:`."""
    files = list(cluster.files)
    if len(files) == 1:
        return files[0]
    gitlab = _gitlab_files(index)
    edges = {p: [i for i in gitlab_local_includes(list(index.parsed[p].docs)) if i in index.parsed]
             for p in gitlab}
    reach = {p: _reach(p, edges) for p in gitlab}
    included_by_all = set.intersection(*(reach[f] for f in files))
    including_all = {p for p in gitlab if all(f in reach[p] for f in files)}
    for candidates in (included_by_all, including_all):
        if candidates:
            return sorted(candidates, key=lambda p: (p not in files, p))[0]
    raise NotProposable(f"the copies live in {', '.join(files)}, which no local `include:` links to a common "
                        "file; a `!reference` only reaches jobs of the same pipeline")


def _template_names(pieces: list[tuple[int, int]], copy: _Copy, index: InfraIndex) -> list[str]:
    taken = {k.value for p in _gitlab_files(index) for k, _ in items(index.parsed[p].docs[0])}
    names: list[str] = []
    for start, _ in pieces:
        words = [t for t in shell_tokens(str(copy.items[copy.shared[start]].value))
                 if re.fullmatch(r"[A-Za-z][\w.-]*", t)]
        base = f".{slug(' '.join(words[:2]))[:30].strip('-')}-script"
        name, n = base, 2
        while name in taken or name in names:
            name, n = f"{base[:-7]}-{n}-script", n + 1
        names.append(name)
    return names


Edit = tuple[int, int, list[str]]  # replace lines[start:end] (0-based) with the new lines


def _variable_edits(copy: _Copy, added: dict[str, str], index: InfraIndex) -> list[Edit]:
    """Lines adding `added` to the job's own `variables:`, or a new block just above the copy's key."""
    own = {k.value: v for k, v in copy.job_node.value if isinstance(k, ScalarNode)}
    node = own.get("variables")
    entries = [f"{name}: {json.dumps(value)}" for name, value in added.items()]
    if node is None:
        if get(copy.job_node, "variables") is not None:
            raise NotProposable(f"the variables of job {copy.job} come from a `<<` merge; adding its own "
                                "would replace them")
        script_key = next(k for k, _ in copy.job_node.value if k.value == copy.key)
        body = script_key.start_mark.column
        at = _insertion_line(file_lines(index.parsed[copy.occ.path]), script_key.start_mark.line)
        return [(at, at, [f"{' ' * body}variables:", *(f"{' ' * (body + 2)}{e}" for e in entries)])]
    if not isinstance(node, MappingNode) or node.flow_style or not node.value:
        raise NotProposable(f"the variables of job {copy.job} are written inline or by reference; write them "
                            "as a block first")
    indent = node.value[0][0].start_mark.column
    at = _end(node, file_lines(index.parsed[copy.occ.path]), indent) + 1
    return [(at, at, [f"{' ' * indent}{e}" for e in entries])]


def _insertion_line(lines: list[str], key_line: int) -> int:
    """Above the comment lines that introduce the job at `key_line`."""
    at = key_line
    while at > 0 and lines[at - 1].lstrip().startswith("#"):
        at -= 1
    return at


def _template_edit(home: str, index: InfraIndex, copies: list[_Copy], block: list[str]) -> Edit:
    lines = file_lines(index.parsed[home])
    using = [c.job_key.start_mark.line for c in copies if c.occ.path == home]
    if not using:
        using = [k.start_mark.line for k, v in items(index.parsed[home].docs[0])
                 if isinstance(v, MappingNode) and k.value not in GITLAB_RESERVED]
    if using:
        at = _insertion_line(lines, min(using))
        return (at, at, [*block, ""])
    end = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
    return (end, end, ["", *block])


def _rewrite(index: InfraIndex, home: str, copies: list[_Copy], pieces: list[tuple[int, int]],
             names: list[str], variables: list[_Variable], roots: list[Node]) -> dict[str, list[str]]:
    edits: dict[str, list[Edit]] = defaultdict(list)
    first = copies[0]
    source = file_lines(index.parsed[first.occ.path])
    block: list[str] = []
    for (start, end), name in zip(pieces, names, strict=True):
        body = _template_items(first, first.shared[start:end], variables, source, start)
        block.extend([*([""] if block else []), f"{name}:", f"  {first.key}:", *body])
    edits[home].append(_template_edit(home, index, copies, block))
    for copy in copies:
        lines = file_lines(index.parsed[copy.occ.path])
        for (start, end), name in zip(pieces, names, strict=True):
            nodes = [copy.items[p] for p in copy.shared[start:end]]
            dash = _dash(lines, nodes[0], copy)
            edits[copy.occ.path].append((nodes[0].start_mark.line, _end(nodes[-1], lines) + 1,
                                         [f"{' ' * dash}- !reference [{name}, {first.key}]"]))
    done: set[tuple[str, str]] = set()
    for copy in copies:
        if (copy.occ.path, copy.job) in done:
            continue
        done.add((copy.occ.path, copy.job))
        needed = {k: v for c in copies if (c.occ.path, c.job) == (copy.occ.path, copy.job)
                  for k, v in c.needed.items()}
        defined = _defined(copy.job, roots)
        added = {k: v for k, v in needed.items() if k not in defined}
        if added:
            edits[copy.occ.path].extend(_variable_edits(copy, added, index))
    out: dict[str, list[str]] = {}
    for path, file_edits in edits.items():
        lines = file_lines(index.parsed[path])
        for start, end, new in sorted(file_edits, key=lambda e: (e[0], e[1]), reverse=True):
            lines[start:end] = new
        out[path] = lines
    return out


def _script_form(value: Any, values: dict[str, str]) -> Any:
    """A script as GitLab runs it: nested lists flattened, `$NAME` of `values` put back, shell tokens."""
    flat: list[Any] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for child in item:
                walk(child)
        else:
            flat.append(item)

    walk(value if isinstance(value, list) else [value])
    out: list[Any] = []
    for line in flat:
        if not isinstance(line, str):
            out.append(line)
            continue
        for name, v in values.items():
            line = re.sub(rf"\$(?:{name}\b|\{{{name}\}})", v.replace("\\", "\\\\"), line)
        out.append(shell_tokens(line))
    return out


def _job_form(value: Any, needed: dict[str, str], added: dict[str, str]) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key in SCRIPT_KEYS:
        if key in out:
            out[key] = _script_form(out[key], needed)
    if added:
        variables = dict(out.get("variables") or {})
        for name, v in added.items():
            if variables.pop(name, None) != v:
                return {"$problem": f"variable {name} not set to {v!r}"}
        if variables:
            out["variables"] = variables
        else:
            out.pop("variables", None)
    return out


def _verify(index: InfraIndex, new_texts: dict[str, list[str]], copies: list[_Copy], names: list[str],
            old_roots: list[Node]) -> None:
    new_docs: dict[str, Node] = {}
    for path, lines in new_texts.items():
        docs, problem = compose_documents("\n".join(lines))
        if problem is not None or len(docs) != 1:
            raise NotProposable(f"the rewritten {path} would not parse: {problem}")
        new_docs[path] = docs[0]
    gitlab = _gitlab_files(index)
    new_roots = [new_docs.get(p, index.parsed[p].docs[0]) for p in gitlab]
    needed: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for copy in copies:
        needed[(copy.occ.path, copy.job)].update(copy.needed)
    for path, doc in new_docs.items():
        old_doc = index.parsed[path].docs[0]
        old_keys = [k.value for k, _ in items(old_doc)]
        new_keys = [k.value for k, _ in items(doc)]
        if sorted(new_keys) != sorted(old_keys + [n for n in names if n not in old_keys and n in new_keys]):
            raise NotProposable(f"the rewritten {path} does not keep its jobs")
        for key in old_keys:
            job_needed = needed.get((path, key), {})
            defined = _defined(key, old_roots) if job_needed else {}
            added = {k: v for k, v in job_needed.items() if k not in defined}
            before = _job_form(resolve_references(get(old_doc, key), old_roots), job_needed, {})
            after = _job_form(resolve_references(get(doc, key), new_roots), job_needed, added)
            if before != after:
                raise NotProposable(f"resolving the `!reference` tags in {path} does not give back the "
                                    f"original {key}")
    if not all(any(n in (k.value for k, _ in items(d)) for d in new_docs.values()) for n in names):
        raise NotProposable("the template was not written")


def gitlab_reference(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked `!reference` proposal for copied GitLab script lines (see the module docstring)."""
    if cluster.category != "gitlab-script":
        raise NotProposable(f"not GitLab script lines: {cluster.category}")
    for path in cluster.files:
        if index.parsed[path].kind is not FileKind.GITLAB_CI:
            raise NotProposable(f"{path} is not a GitLab CI file")
    if cluster.units_each < 2:
        raise NotProposable("a single line is not worth a template: its reference is a line too")
    copies = [_find_copy(cluster, i, index) for i in range(cluster.copies)]
    if len({(c.occ.path, c.occ.start_line) for c in copies}) != len(copies):
        raise NotProposable("two copies are the same lines (an alias); nothing to share")
    home = _home(cluster, index)
    pieces = _pieces(cluster, copies, index)
    variables = _variables(cluster)
    roots = [index.parsed[p].docs[0] for p in _gitlab_files(index)]
    _assign_values(copies, variables, roots)
    names = _template_names(pieces, copies[0], index)
    new_texts = _rewrite(index, home, copies, pieces, names, variables, roots)
    _verify(index, new_texts, copies, names, roots)
    jobs = list(dict.fromkeys(c.job for c in copies))
    var_names = list(dict.fromkeys(v.name for v in variables))
    shared = " and ".join(f"`{n}`" for n in names)
    varying = (f" What differs becomes the job variable(s) {', '.join(f'${n}' for n in var_names)}, set in "
               "each job's `variables:` (a project CI/CD variable of the same name would take precedence)."
               if var_names else "")
    gaps = (f" The lines only some jobs have stay in place between the {len(names)} references."
            if len(names) > 1 else "")
    return dedup_proposal(
        index,
        title=f"Share {cluster.units_each} script lines of {len(jobs)} GitLab jobs through {shared}",
        rationale=(f"{', '.join(jobs)} repeat the same {cluster.units_each} script lines. The hidden "
                   f"job{'s' if len(names) > 1 else ''} {shared} hold{'' if len(names) > 1 else 's'} them "
                   "once and each job pulls them in with `!reference`, which GitLab flattens into the "
                   f"script.{gaps}{varying}"),
        modified=new_texts,
    )
