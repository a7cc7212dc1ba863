"""Whole GitHub jobs copied across workflows → one reusable workflow (`on: workflow_call`) they call.

Contract: `reusable_workflow(cluster, index)` returns a checked `Proposal` or raises `NotProposable`
with the reason. The new `.github/workflows/<name>.yml` holds the first copy's job with every varying
leaf replaced by `${{ inputs.<name> }}` (typed boolean/number when every copy's value is one); secrets
are declared under `workflow_call.secrets` and passed explicitly by each caller (never `inherit`); a
varying whole secret reference becomes a secret of its own. Each copy is rewritten by line span into a
calling job that keeps only what a calling job may have (name, needs, if, strategy, permissions,
concurrency). Before it is offered, every caller is expanded again (the called job inlined, `with:` and
`secrets:` substituted) and must equal the original job in canonical form; no `<<` merge key is emitted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.discovery import InfraIndex
from core.dupes.building import (
    NotProposable,
    dedup_proposal,
    dump_yaml,
    keep_uses_comments,
    slug,
    strip_uses_ref,
    yaml_scalar,
)
from core.dupes.canonical import exact_form
from core.dupes.model import DuplicateCluster, Occurrence, Parameter
from core.patching import Proposal
from core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    get,
    items,
    last_line,
    to_python,
)

#: the keywords a job that `uses:` a reusable workflow may keep besides uses/with/secrets
CALLER_KEYS = ("name", "needs", "if", "strategy", "permissions", "concurrency")
#: job keys whose varying leaves may become inputs of the called workflow
_INPUT_KEYS = frozenset({"runs-on", "steps"})
#: workflow-level settings a job inherits from its file; the called workflow must carry them too
_INHERITED = ("env", "defaults")
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_SECRET_NAME = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
_WHOLE_SECRET = re.compile(r"^\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_CONTEXT = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)\s*(?:\.|\[)")
#: contexts a caller's `with:` may read (GitHub's context availability table)
_WITH_CONTEXTS = frozenset({"github", "needs", "strategy", "matrix", "inputs", "vars"})
#: contexts that mean something else (or nothing) once the job runs inside the called workflow
_CALLER_ONLY = frozenset({"needs", "matrix", "strategy", "inputs"})
_SEGMENT = re.compile(r"\.?([^.\[\]#]+)|\[(\d+)\]")


def _path(where: str) -> tuple[list[str | int], int | None]:
    """`steps[2].run#5` → (['steps', 2, 'run'], 5): keys, list indexes and an optional shell token."""
    head, _, token = where.partition("#")
    parts: list[str | int] = []
    pos = 0
    while pos < len(head):
        match = _SEGMENT.match(head, pos)
        if match is None or match.end() == pos:
            raise NotProposable(f"cannot follow the varying value at {where}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    return parts, int(token) if token else None


def _follow(value: Any, parts: list[str | int]) -> Any:
    for part in parts:
        value = value[part]
    return value


def _contexts(text: str) -> set[str]:
    return {name for expr in _EXPR.findall(text) for name in _CONTEXT.findall(expr)}


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _input_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    return "string"


def _scalar_text(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return repr(value)
    return yaml_scalar(value)


def _comparable(job: dict[str, Any]) -> Any:
    steps = job.get("steps")
    if isinstance(steps, list):
        job = {**job, "steps": [strip_uses_ref(s) if isinstance(s, dict) else s for s in steps]}
    return exact_form(job)


class _Plan:
    """What the called workflow declares and what each caller passes, built parameter by parameter."""

    def __init__(self, copies: int, reserved: set[str]) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}
        self.with_: list[dict[str, tuple[Any, str]]] = [{} for _ in range(copies)]
        self.secret_params: dict[str, list[str]] = {}  # secret name -> each caller's expression
        self.reserved = reserved

    def input_name(self, base: str) -> str:
        """GitHub input ids start with a letter or `_` and hold letters, digits, `-` and `_`."""
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-") or "value"
        if not re.match(r"[A-Za-z_]", name):
            name = f"in-{name}"
        candidate, n = name, 2
        while candidate in self.inputs:
            candidate, n = f"{name}-{n}", n + 1
        return candidate

    def secret_name(self, base: str) -> str:
        name = re.sub(r"[^A-Z0-9_]", "_", base.upper()) or "SECRET"
        if name.startswith("GITHUB_") or name[0].isdigit():
            name = f"S_{name}"
        candidate, n = name, 2
        while candidate in self.reserved or candidate in self.secret_params:
            candidate, n = f"{name}_{n}", n + 1
        return candidate


def _apply_parameter(param: Parameter, body: dict[str, Any], forms: list[Any], plan: _Plan) -> None:
    if not param.where.startswith("[0]."):
        raise NotProposable(f"unexpected parameter path {param.where}")
    parts, token = _path(param.where[4:])
    top = str(parts[0])
    if top in CALLER_KEYS:
        return  # each calling job keeps its own value
    if top not in _INPUT_KEYS:
        shown = ", ".join(dict.fromkeys(param.values))
        raise NotProposable(f"`{top}` differs between the copies ({shown}) and a job that calls a reusable "
                            "workflow cannot set it; make the copies agree first or extract by hand")
    if parts[-1] == "if" and token is None:
        raise NotProposable(f"a step's `if:` differs between the copies ({', '.join(param.values)}); "
                            "a condition cannot be passed as an input")
    name = plan.input_name(param.name)
    placeholder = f"${{{{ inputs.{name} }}}}"
    if token is not None:
        if any("secrets." in v or "${{" in v for v in param.values):
            raise NotProposable(f"the varying word at {param.where} is an expression inside a script")
        text = _follow(body, parts)
        word = param.values[0]
        if not isinstance(text, str) or text.count(word) != 1:
            raise NotProposable(f"the varying word {word!r} is not unique in its run block")
        _follow(body, parts[:-1])[parts[-1]] = text.replace(word, placeholder)
        values: list[Any] = list(param.values)
    else:
        values = [_follow(form, parts) for form in forms]
        secrets = [_WHOLE_SECRET.match(v) if isinstance(v, str) else None for v in values]
        if all(secrets):
            name = plan.secret_name(param.name)
            plan.secret_params[name] = [f"${{{{ secrets.{m.group(1)} }}}}" for m in secrets if m]
            _follow(body, parts[:-1])[parts[-1]] = f"${{{{ secrets.{name} }}}}"
            return
        for value in values:
            text = str(value)
            if "secrets." in text:
                raise NotProposable(f"the value at {param.where} mixes a secret with other text")
            if _contexts(text) - _WITH_CONTEXTS:
                raise NotProposable(f"the value {text!r} reads a context a caller's `with:` cannot read")
        _follow(body, parts[:-1])[parts[-1]] = placeholder
    kind = "string" if token is not None else _input_type(values)
    shown = ", ".join(dict.fromkeys(str(v) for v in values))
    plan.inputs[name] = {"description": f"was {shown}"[:120], "type": kind, "required": True}
    for i, value in enumerate(values):
        plan.with_[i][name] = (value, kind)


def _has_merge_key(node: Node | None) -> bool:
    if isinstance(node, MappingNode):
        return any((isinstance(k, ScalarNode) and k.value == "<<") or _has_merge_key(v)
                   for k, v in node.value)
    return isinstance(node, SequenceNode) and any(_has_merge_key(v) for v in node.value)


def _workflow_name(key: str, index: InfraIndex) -> str:
    base = slug(key)
    name, n = base, 2
    while any(f".github/workflows/{name}.{ext}" in index.files for ext in ("yml", "yaml")):
        name, n = f"{base}-{n}", n + 1
    return name


def _job_node(index: InfraIndex, occ: Occurrence) -> tuple[str, MappingNode, ScalarNode]:
    key = occ.label.split(" ", 1)[1]
    doc = index.parsed[occ.path].docs[0]
    for k, v in items(get(doc, "jobs")):
        if k.value == key and isinstance(v, MappingNode) and k.start_mark.line + 1 == occ.start_line:
            return key, v, k
    raise NotProposable(f"{occ.path} changed since the scan; rescan")


def reusable_workflow(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked reusable-workflow proposal for a cluster of whole jobs (see the module docstring)."""
    jobs = [_job_node(index, occ) for occ in cluster.occurrences]
    originals: list[dict[str, Any]] = [to_python(node) for _, node, _ in jobs]
    if any("uses" in job for job in originals):
        raise NotProposable("a copy already calls a reusable workflow")
    inherited: dict[str, Any] = {}
    for key in _INHERITED:
        found = [json.dumps(to_python(get(index.parsed[o.path].docs[0], key)), sort_keys=True)
                 for o in cluster.occurrences]
        if len(set(found)) > 1:
            raise NotProposable(f"the workflows' top-level `{key}` differs, and the jobs inherit it")
        if json.loads(found[0]):
            inherited[key] = json.loads(found[0])
    forms = [{k: v for k, v in job.items() if k not in ("name", "id")} for job in originals]
    reserved = {m for job in originals for s in _strings(job) for m in _SECRET_NAME.findall(s)}
    plan = _Plan(cluster.copies, reserved)
    body = json.loads(json.dumps({k: v for k, v in originals[0].items() if k not in CALLER_KEYS}))
    for param in cluster.parameters:
        _apply_parameter(param, body, forms, plan)
    declared = set(plan.inputs)
    for text in _strings(body) + _strings(inherited):
        if "secrets[" in text.replace(" ", ""):
            raise NotProposable("a secret is read by index (`secrets[...]`); name it to share the job")
        used = {c for c in _contexts(text) if c in _CALLER_ONLY}
        stray = [n for n in re.findall(r"\binputs\.([\w-]+)", text) if n not in declared]
        if used - {"inputs"} or stray:
            what = ", ".join(sorted(used - {"inputs"}) or [f"inputs.{stray[0]}"])
            raise NotProposable(f"the job reads `{what}`, which the called workflow cannot see; "
                                "pass it as an input by hand")
    fixed = sorted({m for s in _strings(body) + _strings(inherited) for m in _SECRET_NAME.findall(s)}
                   - set(plan.secret_params) - {"GITHUB_TOKEN"})
    job_key = jobs[0][0]
    name = _workflow_name(job_key, index)
    path = f".github/workflows/{name}.yml"
    call: dict[str, Any] = {}
    if plan.inputs:
        call["inputs"] = plan.inputs
    secret_names = fixed + list(plan.secret_params)
    if secret_names:
        call["secrets"] = {s: {"required": True} for s in secret_names}
    if isinstance(body.get("outputs"), dict):
        call["outputs"] = {o: {"value": f"${{{{ jobs.{job_key}.outputs.{o} }}}}"} for o in body["outputs"]}
    workflow = {"name": f"{job_key} (shared)", "on": {"workflow_call": call}, **inherited,
                "jobs": {job_key: body}}
    workflow_text = keep_uses_comments(dump_yaml(workflow), cluster, index)
    caller_secrets = [{**{s: f"${{{{ secrets.{s} }}}}" for s in fixed},
                       **{s: exprs[i] for s, exprs in plan.secret_params.items()}}
                      for i in range(cluster.copies)]
    new_texts = _rewrite_callers(cluster, index, jobs, path, plan, caller_secrets)
    _verify(cluster, index, jobs, originals, workflow_text, job_key, path, new_texts)
    note = f" It {cluster.note}." if cluster.note else ""
    return dedup_proposal(
        index,
        title=f"Move the job {job_key}, copied into {cluster.copies} workflows, into the reusable workflow "
              f"{name}",
        rationale=(
            f"The job {job_key} is repeated in {', '.join(cluster.files)} ({cluster.lines_each} lines each). "
            f"A reusable workflow keeps it in one place; {len(plan.inputs)} input(s) carry what differs "
            f"and {len(secret_names)} secret(s) are passed explicitly by each caller.{note}"
        ),
        created={path: workflow_text}, modified=new_texts,
    )


def _rewrite_callers(cluster: DuplicateCluster, index: InfraIndex,
                     jobs: list[tuple[str, MappingNode, ScalarNode]], path: str, plan: _Plan,
                     caller_secrets: list[dict[str, str]]) -> dict[str, list[str]]:
    """Each copy's lines replaced by a calling job, bottom-up so earlier line numbers stay valid."""
    new_texts: dict[str, list[str]] = {}
    for i in sorted(range(cluster.copies), key=lambda i: -cluster.occurrences[i].start_line):
        occ = cluster.occurrences[i]
        _, node, key = jobs[i]
        if node.start_mark.line == key.start_mark.line or getattr(node, "flow_style", False):
            raise NotProposable(f"{occ.path}: the job {key.value} is written inline; "
                                "write it as a block first")
        lines = new_texts.setdefault(occ.path, index.parsed[occ.path].text.split("\n"))
        pad = " " * node.value[0][0].start_mark.column
        out = [lines[key.start_mark.line]]
        after = key.start_mark.line + 1
        for k, v in node.value:
            # comment lines between the job's keys stay; the removed keys' own lines go
            out.extend(t for t in lines[after : k.start_mark.line] if t.lstrip().startswith("#"))
            if isinstance(k, ScalarNode) and k.value in CALLER_KEYS:
                out.extend(lines[k.start_mark.line : last_line(v) + 1])
            after = last_line(v) + 1
        out.append(f"{pad}uses: ./{path}")
        if plan.with_[i]:
            out.append(f"{pad}with:")
            out.extend(f"{pad}  {n}: {_scalar_text(v, kind)}" for n, (v, kind) in plan.with_[i].items())
        if caller_secrets[i]:
            out.append(f"{pad}secrets:")
            out.extend(f"{pad}  {n}: {v}" for n, v in caller_secrets[i].items())  # `${{ secrets.X }}`
        lines[occ.start_line - 1 : occ.end_line] = out
    return new_texts


def _substitute(value: Any, with_: dict[str, Any], secrets: dict[str, Any]) -> Any:
    """The called job as it runs for one caller: inputs and secrets replaced by what the caller passes."""
    if isinstance(value, dict):
        return {k: _substitute(v, with_, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, with_, secrets) for v in value]
    if not isinstance(value, str):
        return value
    for name, given in with_.items():
        placeholder = f"${{{{ inputs.{name} }}}}"
        if value == placeholder:
            return given
        text = str(given).lower() if isinstance(given, bool) else str(given)
        value = value.replace(placeholder, text)
    for name, given in secrets.items():
        value = value.replace(f"${{{{ secrets.{name} }}}}", str(given))
    return value


def _verify(cluster: DuplicateCluster, index: InfraIndex, jobs: list[tuple[str, MappingNode, ScalarNode]],
            originals: list[dict[str, Any]], workflow_text: str, job_key: str, path: str,
            new_texts: dict[str, list[str]]) -> None:
    docs, problem = compose_documents(workflow_text)
    if problem is not None or not docs or _has_merge_key(docs[0]):
        raise NotProposable(f"the reusable workflow would not parse cleanly: {problem}")
    on = to_python(get(docs[0], "on"))
    if not isinstance(on, dict) or "workflow_call" not in on:
        raise NotProposable("the reusable workflow does not declare `on: workflow_call`")
    call = on["workflow_call"] or {}
    inputs, secrets = call.get("inputs") or {}, call.get("secrets") or {}
    called = to_python(get(get(docs[0], "jobs"), job_key))
    new_docs: dict[str, Node] = {}
    for p, lines in new_texts.items():
        parsed, problem = compose_documents("\n".join(lines))
        if problem is not None or not parsed or _has_merge_key(parsed[0]):
            raise NotProposable(f"the rewritten {p} would not parse cleanly: {problem}")
        new_docs[p] = parsed[0]
    for i, occ in enumerate(cluster.occurrences):
        caller = to_python(get(get(new_docs[occ.path], "jobs"), jobs[i][0]))
        if not isinstance(caller, dict) or caller.get("uses") != f"./{path}":
            raise NotProposable(f"the rewritten {occ.path} does not call {path} where expected")
        extra = set(caller) - {*CALLER_KEYS, "uses", "with", "secrets"}
        with_, passed = caller.get("with") or {}, caller.get("secrets") or {}
        if extra or passed == "inherit" or set(with_) != set(inputs) or set(passed) != set(secrets):
            raise NotProposable(f"the call in {occ.path} does not match what {path} declares")
        expanded = {**{k: v for k, v in caller.items() if k in CALLER_KEYS},
                    **_substitute(called, with_, passed)}
        if _comparable(expanded) != _comparable(originals[i]):
            raise NotProposable(f"expanding the call in {occ.path} does not give back the original job")
    replaced = {(o.path, jobs[i][0]) for i, o in enumerate(cluster.occurrences)}
    for p, doc in new_docs.items():
        before = to_python(index.parsed[p].docs[0])
        after = to_python(doc)
        for name in [j for q, j in replaced if q == p]:
            before["jobs"].pop(name, None)
            after["jobs"].pop(name, None)
        if before != after:
            raise NotProposable(f"the rewrite would change more of {p} than the copied job")
