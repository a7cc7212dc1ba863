"""A composite action for a near-miss group of GitHub steps: shared steps, plus guarded optional ones.

Contract: `gapped_composite(cluster, index)` turns a near-miss `gha-steps` group (see `core.dupes.gaps`)
into a `Proposal`, or raises `NotProposable` with the reason. The action holds the shared steps (inputs
for the values that vary, secrets passed as inputs); a step that only some copies have — the same step
wherever it appears — becomes a step guarded by a boolean input (`if: inputs.<flag> == 'true'`, default
'false'), and the callers that had it pass `<flag>: 'true'`. Copies that differ by different steps in
one place (a replaced step, or extra steps that are not identical) cannot be expressed this way.

The check before offering: the action text is parsed back and, for every caller, expanded — its inputs
substituted, each guarded step kept only when the caller's flag is 'true' (with its own `if:` restored) —
and must equal that copy's original steps in canonical form; each rewritten workflow must parse and call
the action with exactly the inputs its copies need.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from core.discovery import InfraIndex
from core.dupes.building import (
    COMPOSITE_UNSUPPORTED,
    NotProposable,
    action_name,
    dedup_proposal,
    dump_yaml,
    expand_steps,
    finish_action_steps,
    keep_uses_comments,
    parameterize_steps,
    replace_calls,
    slug,
    step_title,
    steps_nodes,
    strip_uses_ref,
)
from core.dupes.canonical import exact_form
from core.dupes.model import DuplicateCluster
from core.models import FileKind
from core.patching import Proposal
from core.yamlnodes import compose_documents, get, items, seq, to_python

_GUARD = re.compile(r"^inputs\.([A-Za-z0-9_-]+) == 'true'(?: && \((.*)\))?$", re.DOTALL)
_WRAPPED = re.compile(r"^\s*\$\{\{(.*)\}\}\s*$", re.DOTALL)

Step = dict[str, Any]


def _bare_if(value: object) -> object:
    """`if: ${{ x }}` and `if: x` mean the same to GitHub: compare them unwrapped."""
    if isinstance(value, str):
        match = _WRAPPED.match(value)
        return (match.group(1) if match else value).strip()
    return value


def _canonical(step: Step) -> Any:
    step = strip_uses_ref(step)
    if "if" in step:
        step["if"] = _bare_if(step["if"])
    return exact_form(step)


def _split_copies(cluster: DuplicateCluster, index: InfraIndex
                  ) -> tuple[list[list[Step]], list[list[Step]], list[dict[int, list[Step]]]]:
    """Per copy: all its steps, its shared steps, and its extra steps by slot."""
    originals: list[list[Step]] = []
    shared: list[list[Step]] = []
    extras: list[dict[int, list[Step]]] = []
    for i, occ in enumerate(cluster.occurrences):
        nodes = steps_nodes(index.parsed[occ.path], occ)
        if len(nodes) != occ.length:
            raise NotProposable(f"{occ.path} changed since the scan; rescan")
        steps = [to_python(n) for n in nodes]
        mine = [g for g in cluster.gaps if g.occurrence == i and g.kind != "missing"]
        extra_at = {g.position: g.after for g in mine}
        by_slot: dict[int, list[Step]] = {}
        for position in sorted(extra_at):
            by_slot.setdefault(extra_at[position], []).append(steps[position])
        kept = [s for n, s in enumerate(steps) if n not in extra_at]
        if len(kept) != cluster.units_each:
            raise NotProposable(f"{occ.path} changed since the scan; rescan")
        originals.append(steps)
        shared.append(kept)
        extras.append(by_slot)
    return originals, shared, extras


def _optional_steps(cluster: DuplicateCluster, shared: list[list[Step]], extras: list[dict[int, list[Step]]]
                    ) -> dict[int, tuple[list[Step], list[int]]]:
    """Per slot: the optional steps and the copies that have them; refused when they differ."""
    replaced = [g for g in cluster.gaps if g.kind == "replaced"]
    if replaced:
        where = ", ".join(sorted({f"copy {g.occurrence + 1} line {g.line}" for g in replaced}))
        raise NotProposable(f"the copies have different steps in the same place ({where}); an optional "
                            "step needs some copies without it and the same step in all that have it")
    slots: dict[int, tuple[list[Step], list[int]]] = {}
    for slot in sorted({s for by_slot in extras for s in by_slot}):
        having = [i for i, by_slot in enumerate(extras) if slot in by_slot]
        forms = {json.dumps([_canonical(s) for s in extras[i][slot]], sort_keys=True, default=str)
                 for i in having}
        if len(forms) != 1:
            after = step_title(shared[0][slot - 1]) if slot > 0 else "the start"
            copies = ", ".join(str(i + 1) for i in having)
            raise NotProposable(f"copies {copies} have different extra steps after {after!r}; a guarded "
                                "step must be the same wherever it appears")
        slots[slot] = (extras[having[0]][slot], having)
    return slots


def _guard(step: Step, flag: str) -> Step:
    """The step run only when the caller passes `flag: 'true'`; its own condition kept behind the flag."""
    guarded = copy.deepcopy(step)
    own = guarded.pop("if", None)
    condition = f"inputs.{flag} == 'true'" + (f" && ({_bare_if(own)})" if own is not None else "")
    name = {"name": guarded.pop("name")} if "name" in guarded else {}
    return {**name, "if": condition, **guarded}


def _expand_for(action_steps: list[Step], inputs: dict[str, Any], values: dict[str, str],
                added_shell: list[int]) -> list[Any]:
    """The steps one caller runs: guarded steps kept only when its flag is 'true', their own `if` back."""
    kept: list[Step] = []
    shell: list[int] = []
    for j, step in enumerate(action_steps):
        match = _GUARD.match(str(step.get("if", "")))
        if match and match.group(1) in inputs:
            flag = match.group(1)
            if values.get(flag, str(inputs[flag].get("default", ""))) != "true":
                continue
            step = {k: v for k, v in step.items() if k != "if"}
            if match.group(2) is not None:
                step["if"] = match.group(2)
        if j in added_shell:
            shell.append(len(kept))
        kept.append(step)
    return [_canonical(s) for s in expand_steps(kept, values, shell)]


def _verify(cluster: DuplicateCluster, originals: list[list[Step]], action_text: str,
            added_shell: list[int], caller_with: list[dict[str, str]], new_texts: dict[str, list[str]],
            action_path: str) -> None:
    docs, problem = compose_documents(action_text)
    if problem is not None or not docs:
        raise NotProposable(f"the composite action would not parse: {problem}")
    action = to_python(docs[0])
    inputs = action.get("inputs") or {}
    for i, original in enumerate(originals):
        expanded = _expand_for(action["runs"]["steps"], inputs, caller_with[i], added_shell)
        if expanded != [_canonical(s) for s in original]:
            raise NotProposable(f"expanding the composite action for copy {i + 1} does not give back "
                                "its steps")
    folder = f"./{action_path.rsplit('/', 1)[0]}"
    for path, lines in new_texts.items():
        docs, problem = compose_documents("\n".join(lines))
        if problem is not None or not docs:
            raise NotProposable(f"the rewritten {path} would not parse: {problem}")
        calls = [to_python(get(s, "with")) or {} for _, job in items(get(docs[0], "jobs"))
                 for s in seq(get(job, "steps")) if to_python(get(s, "uses")) == folder]
        wanted = [caller_with[i] for i, o in enumerate(cluster.occurrences) if o.path == path]
        if sorted(json.dumps(c, sort_keys=True) for c in calls) != \
                sorted(json.dumps(w, sort_keys=True) for w in wanted):
            raise NotProposable(f"the rewritten {path} does not call the action with the inputs expected")


def gapped_composite(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked composite-action proposal for a near-miss step group (see the module docstring)."""
    existing = [o.path for o in cluster.occurrences if index.parsed[o.path].kind is FileKind.GHA_ACTION]
    if existing:
        folder = existing[0].rsplit("/", 1)[0]
        raise NotProposable(f"these steps already live in the composite action ./{folder}; "
                            "replace the copies with `uses: ./" + folder + "` and its inputs")
    originals, shared, extras = _split_copies(cluster, index)
    optional = _optional_steps(cluster, shared, extras)
    for step in [*shared[0], *(s for steps, _ in optional.values() for s in steps)]:
        unsupported = sorted(COMPOSITE_UNSUPPORTED & set(step))
        if unsupported:
            raise NotProposable(f"composite actions do not support {unsupported}")
    inputs: dict[str, dict[str, Any]] = {}
    caller_with: list[dict[str, str]] = [{} for _ in cluster.occurrences]
    steps = parameterize_steps(cluster, shared[0], inputs, caller_with)
    flags: list[str] = []
    for slot in sorted(optional, reverse=True):  # from the end, so earlier slots keep their place
        extra, having = optional[slot]
        base = f"include-{slug(step_title(extra[0]))}"[:40].rstrip("-")
        flag, n = base, 2
        while flag in inputs:
            flag, n = f"{base}-{n}", n + 1
        inputs[flag] = {"description": f"run {step_title(extra[0])!r} (only some callers had it)",
                        "required": False, "default": "false"}
        for i in having:
            caller_with[i][flag] = "true"
        steps[slot:slot] = [_guard(s, flag) for s in extra]
        flags.append(flag)
    added_shell = finish_action_steps(steps, inputs, caller_with)
    title = " + ".join(step_title(s) for s in shared[0])[:60]
    action = {
        "name": title,
        "description": f"Steps shared by {cluster.copies} jobs ({', '.join(cluster.files)}), some optional; "
                       "made by devops-tui from copy-pasted steps.",
        "inputs": inputs,
        "runs": {"using": "composite", "steps": steps},
    }
    action_text = keep_uses_comments(dump_yaml(action), cluster, index)
    name = action_name(shared[0], index)
    action_path = f".github/actions/{name}/action.yml"
    new_texts = replace_calls(cluster, index, title, action_path, caller_with)
    _verify(cluster, originals, action_text, added_shell, caller_with, new_texts, action_path)
    note = f" It {cluster.note}." if cluster.note else ""
    return dedup_proposal(
        index,
        title=f"Extract {cluster.units_each} shared steps (and {len(flags)} optional) into the composite "
              f"action {name}",
        rationale=(
            f"{cluster.copies} jobs repeat the same {cluster.units_each} steps, apart from "
            f"{len(flags)} step group(s) only some of them have. The composite action keeps one copy; an "
            f"optional step runs when its caller passes {', '.join(f'`{f}: true`' for f in reversed(flags))}"
            f", and {len(inputs) - len(flags)} other input(s) carry what differs.{note} Composite-action "
            "`run` steps need an explicit shell, so `shell: bash` is added where it was implied."
        ),
        created={action_path: action_text}, modified=new_texts,
    )
