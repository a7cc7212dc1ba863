"""Steps copied from an existing composite action → each workflow copy calls that action instead.

Contract: `existing_action(cluster, index)` returns a checked `Proposal` or raises `NotProposable` with
the reason. The cluster links the steps of `.github/actions/X/action.yml` with their copies (shapes
ignore values); the action itself is left alone. Each copy's window of steps (as many as the action
has, aligned on the cluster's run) is matched against the action's steps: where the action reads
`${{ inputs.foo }}` the copy's value there becomes `foo`'s value, and where an expression reads
`inputs.foo` (`hashFiles(inputs.requirements)`) the copy's quoted literal in the same place does. A
literal the action hard-codes must equal the copy's, and one input must get one value per copy;
otherwise there is no proposal. Each copy is rewritten by line span into one step
`uses: ./.github/actions/X` whose `with:` gives every input its value, leaving out inputs whose default
(or, when not required, empty value) is already that value. Checked before it is offered: inlining the
action with the caller's `with:` (defaults for the rest) gives each copy's steps in canonical form, and
the rest of each workflow is unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, dedup_proposal, strip_uses_ref, yaml_scalar
from core.dupes.canonical import exact_form
from core.dupes.model import DuplicateCluster, Occurrence
from core.models import FileKind
from core.patching import Proposal
from core.yamlnodes import MappingNode, Node, compose_documents, get, last_line, scalar, seq, to_python

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_WHOLE_INPUT = re.compile(r"^\s*inputs\.([A-Za-z_][\w-]*)\s*$")
_INPUT_REF = re.compile(r"\binputs\.([A-Za-z_][\w-]*)")
_PLACEHOLDER = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z_][\w-]*)\s*\}\}$")
_COSMETIC = frozenset({"name", "id"})


def _step_nodes(doc: Node, container: str) -> list[Node]:
    if container == "runs.steps":
        return seq(get(get(doc, "runs"), "steps"))
    job = container.split(".", 1)[1].rsplit(".", 1)[0]
    return seq(get(get(get(doc, "jobs"), job), "steps"))


def _text(value: Any) -> str:
    """A leaf as the string an action input would carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class _Pattern:
    """An action string with `inputs.*` holes, as a regular expression that recovers the holes' values."""

    def __init__(self, template: str) -> None:
        self.names: list[str] = []
        self.quoted: list[bool] = []
        parts: list[str] = []
        pos = 0
        for match in _EXPR.finditer(template):
            parts.append(re.escape(template[pos : match.start()]))
            inner = match.group(1)
            whole = _WHOLE_INPUT.match(inner)
            if whole:
                parts.append(self._hole(whole.group(1), quoted=False))
            else:
                sub, last = ["\\$\\{\\{"], 0
                for ref in _INPUT_REF.finditer(inner):
                    sub.append(re.escape(inner[last : ref.start()]))
                    sub.append(f"'{self._hole(ref.group(1), quoted=True)}'")
                    last = ref.end()
                sub.append(re.escape(inner[last:]) + "\\}\\}")
                parts.append("".join(sub))
            pos = match.end()
        parts.append(re.escape(template[pos:]))
        self.regex = re.compile("".join(parts), re.S)

    def _hole(self, name: str, quoted: bool) -> str:
        self.names.append(name)
        self.quoted.append(quoted)
        return f"(?P<g{len(self.names) - 1}>(?:[^']|'')*?)" if quoted else f"(?P<g{len(self.names) - 1}>.*?)"

    def match(self, text: str) -> dict[str, list[str]] | None:
        found = self.regex.fullmatch(text)
        if found is None:
            return None
        out: dict[str, list[str]] = {}
        for n, name in enumerate(self.names):
            value = found.group(f"g{n}")
            out.setdefault(name, []).append(value.replace("''", "'") if self.quoted[n] else value)
        return out


def _normal_run(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


class _Matcher:
    """Matches one copy's steps against the action's, collecting each input's value."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.values: dict[str, Any] = {}
        self.dropped_shell: list[int] = []
        self.refs: list[str] = []

    def bind(self, name: str, value: Any, at: str) -> None:
        if name in self.values and _text(self.values[name]) != _text(value):
            raise NotProposable(f"inputs.{name} would need two values in {self.where} "
                                f"({_text(self.values[name])!r} and {_text(value)!r} at {at})")
        self.values.setdefault(name, value)

    def step(self, number: int, action: dict[str, Any], copy: dict[str, Any]) -> None:
        a_keys = set(action) - _COSMETIC
        c_keys = set(copy) - _COSMETIC
        if "shell" in a_keys - c_keys and action.get("shell") == "bash" and "run" in copy:
            a_keys.discard("shell")  # a composite `run` needs a shell; the workflow's default is bash
            self.dropped_shell.append(number)
        if a_keys != c_keys:
            extra = ", ".join(sorted(c_keys - a_keys)) or "-"
            missing = ", ".join(sorted(a_keys - c_keys)) or "-"
            raise NotProposable(f"step {number + 1} in {self.where} has other settings than the action's "
                                f"(only in the copy: {extra}; only in the action: {missing})")
        for key in sorted(a_keys):
            self.value(action[key], copy[key], f"step {number + 1} {key}", key)

    def value(self, action: Any, copy: Any, at: str, key: str) -> None:
        if isinstance(action, dict) and isinstance(copy, dict):
            if set(action) != set(copy):
                raise NotProposable(f"{at} in {self.where} has other keys than the action's")
            for k in action:
                self.value(action[k], copy[k], f"{at}.{k}", k)
            return
        if isinstance(action, list) and isinstance(copy, list) and len(action) == len(copy):
            for n, (a, c) in enumerate(zip(action, copy, strict=True)):
                self.value(a, c, f"{at}[{n}]", key)
            return
        if isinstance(action, str) and "inputs." in action:
            pattern = _Pattern(action)
            whole = _PLACEHOLDER.match(action)
            if whole and isinstance(copy, str | int | float | bool):
                self.bind(whole.group(1), copy, at)  # the whole value: keep the copy's type
                return
            text = _text(copy)
            found = pattern.match(text) or (pattern.match(_normal_run(text)) if key == "run" else None)
            if found is None and key == "run":
                found = _Pattern(_normal_run(action)).match(_normal_run(text))
            if found is None:
                raise NotProposable(f"{at} in {self.where} differs from the action's {action!r} beyond its "
                                    "inputs")
            for name, values in found.items():
                for value in values:
                    self.bind(name, value, at)
            return
        same = (exact_form(action, key) == exact_form(copy, key) if key == "run"
                else _text(strip_ref(action, key)) == _text(strip_ref(copy, key)))
        if not same:
            if key == "uses":
                self.refs.append(f"{_text(copy)} → {_text(action)}")
                return
            raise NotProposable(f"the action hard-codes {_text(action)!r} at {at} where {self.where} has "
                                f"{_text(copy)!r}; an input cannot express it")


def strip_ref(value: Any, key: str) -> Any:
    return value.split("@", 1)[0] if key == "uses" and isinstance(value, str) else value


def _substitute(value: Any, given: dict[str, Any]) -> Any:
    """The action's steps as they run for one caller: inputs replaced by what it passes."""
    if isinstance(value, dict):
        return {k: _substitute(v, given) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, given) for v in value]
    if not isinstance(value, str) or "inputs." not in value:
        return value

    def expression(match: re.Match[str]) -> str:
        inner = match.group(1)
        whole = _WHOLE_INPUT.match(inner)
        if whole:
            return _text(given.get(whole.group(1), ""))
        def literal(ref: re.Match[str]) -> str:
            return "'" + _text(given.get(ref.group(1), "")).replace("'", "''") + "'"

        return "${{" + _INPUT_REF.sub(literal, inner) + "}}"

    return _EXPR.sub(expression, value)


def _comparable(step: dict[str, Any]) -> Any:
    def text_leaves(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: text_leaves(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [text_leaves(v) for v in value]
        return value if key == "run" else _text(value)

    return exact_form(text_leaves(strip_uses_ref(step)))


def _action_of(cluster: DuplicateCluster,
               index: InfraIndex) -> tuple[Occurrence, str, dict[str, Any], list[Any]]:
    """The composite action in the cluster: its occurrence, folder, declared inputs and steps."""
    for occ in cluster.occurrences:
        parsed = index.parsed[occ.path]
        if parsed.kind is not FileKind.GHA_ACTION or not parsed.docs:
            continue
        doc = parsed.docs[0]
        if scalar(get(get(doc, "runs"), "using")) != "composite":
            continue
        inputs = to_python(get(doc, "inputs")) or {}
        steps = [to_python(n) for n in seq(get(get(doc, "runs"), "steps"))]
        return occ, occ.path.rsplit("/", 1)[0], inputs if isinstance(inputs, dict) else {}, steps
    raise NotProposable("the action these steps were copied from is not a composite action")


def existing_action(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked proposal that replaces copies of an existing composite action's steps by calls."""
    action_occ, folder, inputs, action_steps = _action_of(cluster, index)
    action_doc = index.parsed[action_occ.path].docs[0]
    title = scalar(get(action_doc, "name")) or folder.rsplit("/", 1)[-1]
    copies = [o for o in cluster.occurrences if not (index.parsed[o.path].kind is FileKind.GHA_ACTION
                                                     and o.path.rsplit("/", 1)[0] == folder)]
    if not copies:
        raise NotProposable(f"every copy is inside ./{folder} itself")
    plans: list[tuple[Occurrence, list[Node], _Matcher]] = []
    for occ in copies:
        nodes = _step_nodes(index.parsed[occ.path].docs[0], occ.container)
        start = occ.index - action_occ.index
        window = nodes[start : start + len(action_steps)] if start >= 0 else []
        if len(window) != len(action_steps):
            raise NotProposable(f"{occ.path} copies only part of ./{folder} ({occ.length} of its "
                                f"{len(action_steps)} steps); calling the action would run the others too")
        matcher = _Matcher(occ.path)
        for number, (action, node) in enumerate(zip(action_steps, window, strict=True)):
            if not isinstance(node, MappingNode) or not isinstance(action, dict):
                raise NotProposable(f"a step of {occ.path} or of ./{folder} is not a mapping")
            matcher.step(number, action, to_python(node))
        _check_ids(index, occ, window)
        plans.append((occ, window, matcher))
    withs = [_with(inputs, matcher, folder) for _, _, matcher in plans]
    new_texts = _rewrite(index, plans, withs, folder, title)
    _verify(index, plans, withs, new_texts, folder, inputs, action_steps)
    refs = sorted({r for _, _, m in plans for r in m.refs})
    note = f" It unifies action refs ({'; '.join(refs)})." if refs else ""
    files = ", ".join(dict.fromkeys(o.path for o in copies))
    return dedup_proposal(
        index,
        title=f"Call the existing composite action ./{folder} instead of {len(copies)} copies of its steps",
        rationale=(f"{files} repeat the {len(action_steps)} steps of ./{folder}. Each copy becomes one "
                   f"`uses: ./{folder}` step whose `with:` passes what the copy had where the action reads "
                   f"its inputs; inputs whose default already fits are left out.{note}"),
        modified=new_texts,
    )


def _check_ids(index: InfraIndex, occ: Occurrence, window: list[Node]) -> None:
    """A copied step with an `id` that later steps read (`steps.<id>.outputs`) would lose it."""
    text = index.parsed[occ.path].text
    for node in window:
        step_id = scalar(get(node, "id"))
        if step_id and re.search(rf"\bsteps\.{re.escape(step_id)}\b", text):
            raise NotProposable(f"{occ.path} reads `steps.{step_id}`, the id of a copied step; the action "
                                "call would need that id and the action an output")


def _with(inputs: dict[str, Any], matcher: _Matcher, folder: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in matcher.values.items():
        spec = inputs.get(name)
        if not isinstance(spec, dict) and name not in inputs:
            if _text(value) == "":
                continue
            raise NotProposable(f"./{folder} reads inputs.{name} but does not declare it")
        spec = spec if isinstance(spec, dict) else {}
        if "default" in spec and _text(spec["default"]) == _text(value):
            continue
        if "default" not in spec and not spec.get("required") and _text(value) == "":
            continue
        out[name] = value
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool | int | float) or value is None:
        return _text(value) or '""'
    return yaml_scalar(value)


def _rewrite(index: InfraIndex, plans: list[tuple[Occurrence, list[Node], _Matcher]],
             withs: list[dict[str, Any]], folder: str, title: str) -> dict[str, list[str]]:
    """Each copy's steps replaced by one call, bottom-up so earlier line numbers stay valid."""
    new_texts: dict[str, list[str]] = {}
    order = sorted(range(len(plans)), key=lambda i: -plans[i][1][0].start_mark.line)
    for i in order:
        occ, window, _ = plans[i]
        lines = new_texts.setdefault(occ.path, index.parsed[occ.path].text.split("\n"))
        first, last = window[0].start_mark.line, last_line(window[-1])
        dash = lines[first]
        column = window[0].start_mark.column
        if dash[:column].strip() != "-" or getattr(window[0], "flow_style", False):
            raise NotProposable(f"{occ.path}: the copied steps are not written as a block list; "
                                "rewrite them as `- key: value` first")
        pad = " " * (len(dash) - len(dash.lstrip(" ")))
        call = [f"{pad}- name: {yaml_scalar(title)}", f"{pad}  uses: ./{folder}"]
        if withs[i]:
            call.append(f"{pad}  with:")
            call.extend(f"{pad}    {k}: {_scalar(v)}" for k, v in withs[i].items())
        lines[first : last + 1] = call
    return new_texts


def _verify(index: InfraIndex, plans: list[tuple[Occurrence, list[Node], _Matcher]],
            withs: list[dict[str, Any]], new_texts: dict[str, list[str]], folder: str,
            inputs: dict[str, Any], action_steps: list[Any]) -> None:
    defaults = {n: s.get("default", "") for n, s in inputs.items() if isinstance(s, dict)}
    parsed_new: dict[str, Node] = {}
    for path, lines in new_texts.items():
        docs, problem = compose_documents("\n".join(lines))
        if problem is not None or not docs:
            raise NotProposable(f"the rewritten {path} would not parse: {problem}")
        parsed_new[path] = docs[0]
    for i, (occ, window, matcher) in enumerate(plans):
        steps = _step_nodes(parsed_new[occ.path], occ.container)
        calls = [to_python(s) for s in steps if to_python(get(s, "uses")) == f"./{folder}"]
        call = next((c for c in calls if (c.get("with") or {}) == withs[i] or
                     {k: _text(v) for k, v in (c.get("with") or {}).items()}
                     == {k: _text(v) for k, v in withs[i].items()}), None)
        if call is None:
            raise NotProposable(f"the rewritten {occ.path} does not call ./{folder} where expected")
        given = {**defaults, **(call.get("with") or {})}
        expanded = _substitute(action_steps, given)
        for number in matcher.dropped_shell:
            expanded[number].pop("shell", None)
        originals = [to_python(n) for n in window]
        if [_comparable(s) for s in expanded] != [_comparable(s) for s in originals]:
            raise NotProposable(f"inlining ./{folder} with the inputs of {occ.path} does not give back its "
                                "steps")
    for path, doc in parsed_new.items():
        before = _without_calls(to_python(index.parsed[path].docs[0]), f"./{folder}")
        after = _without_calls(to_python(doc), f"./{folder}")
        mine = [(o, w) for o, w, _ in plans if o.path == path]
        for occ, window in mine:
            original = [to_python(n) for n in window]
            _drop_steps(before, occ.container, original)
        if before != after:
            raise NotProposable(f"the rewrite would change more of {path} than the copied steps")


def _without_calls(doc: Any, uses: str) -> Any:
    """The workflow without its calls of the action (the rewrite adds some; others were there before)."""
    if not isinstance(doc, dict):
        return doc
    for container in [doc.get("runs")] + [j for j in (doc.get("jobs") or {}).values() if isinstance(j, dict)]:
        if isinstance(container, dict) and isinstance(container.get("steps"), list):
            container["steps"] = [s for s in container["steps"]
                                  if not (isinstance(s, dict) and s.get("uses") == uses)]
    return doc


def _drop_steps(doc: dict[str, Any], container: str, original: list[Any]) -> None:
    if container == "runs.steps":
        steps = doc["runs"]["steps"]
    else:
        steps = doc["jobs"][container.split(".", 1)[1].rsplit(".", 1)[0]]["steps"]
    for n in range(len(steps) - len(original) + 1):
        if steps[n : n + len(original)] == original:
            del steps[n : n + len(original)]
            return

