"""Building blocks every abstraction proposal shares: the refusal, YAML text, names, paths, and the
parts of a composite action (its steps, inputs, calls and expansion) that several proposals build.

Kept apart from `core.dupes.propose` so that each abstraction module (composite action, reusable
workflow, anchors, compose extends, base stage) depends on these and `propose` dispatches to them all.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from core.discovery import InfraIndex
from core.dupes.canonical import exact_form
from core.dupes.model import DuplicateCluster, Occurrence
from core.parsing import ParsedFile
from core.patching import Producer, Proposal, Safety, make_create, make_modify
from core.yamlnodes import Node, get, seq

_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./-]*$")


class NotProposable(Exception):
    """This cluster has no safe automatic abstraction (the reason is shown to the user)."""


def yaml_scalar(value: object) -> str:
    """A YAML scalar for `value` that reads back as the same string (JSON strings are valid YAML)."""
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in ("true", "false", "yes", "no", "on", "off", "null"):
        return text
    return json.dumps(text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "shared"


def _literal_blocks(value: Any) -> Any:
    """Multi-line strings as `|` blocks, the way people write `run:` bodies."""
    if isinstance(value, dict):
        return {k: _literal_blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def dump_yaml(data: Any) -> str:
    data = _literal_blocks(data)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# --- composite action -------------------------------------------------------------------------------

SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
COMPOSITE_UNSUPPORTED = frozenset({"timeout-minutes"})


_USES = r"^(\s*(?:-\s+)?uses:\s*)(['\"]?)([^\s'\"#]+)\2"
_USES_COMMENT, _USES_BARE = re.compile(_USES + r"(\s+#.*)$"), re.compile(_USES + r"\s*$")


def keep_uses_comments(text: str, cluster: DuplicateCluster, index: InfraIndex) -> str:
    """Put back the comment after each `uses:` the copies had (`@<sha> # v4`: the pin's readable
    version, which Dependabot and Renovate update), lost when the abstraction was dumped from data."""
    comments: dict[str, str] = {}
    for occ in cluster.occurrences:
        for line in file_lines(index.parsed[occ.path])[occ.start_line - 1 : occ.end_line]:
            match = _USES_COMMENT.match(line)
            if match:
                comments.setdefault(match.group(3), match.group(4).strip())
    if not comments:
        return text
    out = []
    for line in text.split("\n"):
        match = _USES_BARE.match(line)
        if match and match.group(3) in comments:
            line = f"{line.rstrip()} {comments[match.group(3)]}"
        out.append(line)
    return "\n".join(out)


def file_lines(parsed: ParsedFile) -> list[str]:
    """A parsed file's text as lines, for line-placed edits."""
    return parsed.text.split("\n")


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def steps_nodes(parsed: ParsedFile, occ: Occurrence) -> list[Node]:
    """The step nodes a copy of a step run spans (in a workflow job or a composite action)."""
    doc = parsed.docs[0]
    if occ.container == "runs.steps":
        steps = seq(get(get(doc, "runs"), "steps"))
    else:
        job = occ.container.split(".", 1)[1].rsplit(".", 1)[0]
        steps = seq(get(get(get(doc, "jobs"), job), "steps"))
    return steps[occ.index : occ.index + occ.length]


def set_path(step: dict[str, Any], path: str, value: str) -> None:
    """Set the leaf at a dotted `path` of a step (a parameter's `where` without its step index)."""
    keys = path.split(".")
    target: Any = step
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


def replace_calls(cluster: DuplicateCluster, index: InfraIndex, title: str, action_path: str,
                  caller_with: list[dict[str, str]]) -> dict[str, list[str]]:
    """Each copy's lines replaced by a call, bottom-up so earlier line numbers stay valid."""
    new_texts: dict[str, list[str]] = {}
    order = sorted(range(cluster.copies), key=lambda i: -cluster.occurrences[i].start_line)
    for i in order:
        occ = cluster.occurrences[i]
        lines = new_texts.setdefault(occ.path, file_lines(index.parsed[occ.path]))
        pad = " " * indent_of(lines[occ.start_line - 1])
        call = [f"{pad}- name: {yaml_scalar(title)}", f"{pad}  uses: ./{action_path.rsplit('/', 1)[0]}"]
        if caller_with[i]:
            call.append(f"{pad}  with:")
            call.extend(f"{pad}    {k}: {yaml_scalar(v)}" for k, v in caller_with[i].items())
        lines[occ.start_line - 1 : occ.end_line] = call
    return new_texts


def secrets_to_inputs(value: Any, inputs: dict[str, dict[str, Any]],
                      caller_with: list[dict[str, str]]) -> Any:
    """Composite actions cannot read `secrets`: each secret becomes an input the caller passes."""
    if isinstance(value, dict):
        return {k: secrets_to_inputs(v, inputs, caller_with) for k, v in value.items()}
    if not isinstance(value, str) or "secrets." not in value:
        return value

    def swap(match: re.Match[str]) -> str:
        secret = match.group(1)
        name = secret.lower().replace("_", "-")
        inputs.setdefault(name, {"description": f"the {secret} secret", "required": True})
        for caller in caller_with:
            caller[name] = f"${{{{ secrets.{secret} }}}}"
        return f"${{{{ inputs.{name} }}}}"

    return SECRET_REF.sub(swap, value)


def step_title(step: dict[str, Any]) -> str:
    """A short human title for a step: its name, the action it uses, or its first command."""
    if step.get("name"):
        return str(step["name"])
    if step.get("uses"):
        return str(step["uses"]).split("@")[0].rsplit("/", 1)[-1]
    return str(step.get("run", "run")).strip().split("\n")[0][:20]


def action_name(steps: list[dict[str, Any]], index: InfraIndex) -> str:
    """A folder name for a new composite action, unused in the repository."""
    uses = [str(s["uses"]).split("@")[0].rsplit("/", 1)[-1] for s in steps if s.get("uses")]
    base = slug("-".join(uses[:2]) or step_title(steps[0]))
    name, n = base, 2
    while any(p.startswith(f".github/actions/{name}/") for p in index.files):
        name, n = f"{base}-{n}", n + 1
    return name


def expand_steps(steps: list[dict[str, Any]], values: dict[str, str], added_shell: list[int]) -> list[Any]:
    """A composite action's steps as one caller runs them (inputs substituted), in canonical form."""
    out = []
    for j, step in enumerate(steps):
        text = json.dumps(step)
        for name, value in values.items():
            text = text.replace(f"${{{{ inputs.{name} }}}}", json.dumps(value)[1:-1])
        expanded = json.loads(text)
        if j in added_shell:
            expanded.pop("shell", None)
        out.append(exact_form(strip_uses_ref(expanded)))
    return out


def parameterize_steps(
    cluster: DuplicateCluster, steps: list[dict[str, Any]], inputs: dict[str, dict[str, Any]],
    caller_with: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """A copy of the first copy's `steps` with an input in place of every varying value; records each
    input and what every caller passes for it."""
    steps = copy.deepcopy(steps)
    for param in cluster.parameters:
        head, _, rest = param.where.partition("].")
        j = int(head.lstrip("["))
        placeholder = f"${{{{ inputs.{param.name} }}}}"
        if "#" in rest:
            key, _, _ = rest.partition("#")
            body = steps[j].get(key)
            token = param.values[0]
            if not isinstance(body, str) or body.count(token) != 1:
                raise NotProposable(f"the varying word {token!r} is not unique in its run block")
            steps[j][key] = body.replace(token, placeholder)
        else:
            set_path(steps[j], rest, placeholder)
        inputs[param.name] = {"description": f"{param.name} (was {', '.join(dict.fromkeys(param.values))})",
                              "required": True}
        for i, value in enumerate(param.values):
            caller_with[i][param.name] = value
    return steps


def finish_action_steps(steps: list[dict[str, Any]], inputs: dict[str, dict[str, Any]],
                        caller_with: list[dict[str, str]]) -> list[int]:
    """Make `steps` legal in a composite action: an explicit shell on `run` steps (returned: where one
    was added) and secrets passed as inputs."""
    added_shell = []
    for j, step in enumerate(steps):
        if "run" in step and "shell" not in step:
            step["shell"] = "bash"
            added_shell.append(j)
        for key, value in list(step.items()):
            step[key] = secrets_to_inputs(value, inputs, caller_with)
    return added_shell


def strip_uses_ref(step: dict[str, Any]) -> dict[str, Any]:
    out = dict(step)
    if isinstance(out.get("uses"), str) and not out["uses"].startswith("./"):
        out["uses"] = out["uses"].split("@", 1)[0]
    return out


def common_parent(folders: set[str]) -> str:
    parts = [Path(f).parts for f in folders]
    prefix = []
    for group in zip(*parts, strict=False):
        if len(set(group)) != 1:
            break
        prefix.append(group[0])
    return "/".join(prefix) or "."


def dedup_proposal(index: InfraIndex, *, title: str, rationale: str, created: Mapping[str, str] | None = None,
                   modified: Mapping[str, str | list[str]] | None = None) -> Proposal:
    """The proposal every abstraction ends in: files it creates, files it rewrites (text or lines);
    always for review, since it changes how the pipeline is put together."""
    edits = [make_create(index.root, path, text) for path, text in (created or {}).items()]
    edits += [make_modify(index.root, path, text if isinstance(text, str) else "\n".join(text))
              for path, text in (modified or {}).items()]
    return Proposal(title=title, rationale=rationale, producer=Producer.DEDUP, edits=tuple(edits),
                    safety=Safety.REVIEW)
