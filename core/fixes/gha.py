"""GitHub Actions quick fixes: env indirection for injected expressions, token permissions, checkout
credentials, and insecure workflow commands.

Contract: fixers locate what they edit from the finding's position and `fix_data` (step line, jobs
line) in the composed workflow, and edit text only. Template injection: the `${{ … }}` in a bash/sh
`run:` becomes a quoted variable fitting the shell quoting around it (`"${X}"` bare, `${X}` inside
double quotes or an unquoted heredoc, `'"${X}"'` inside single quotes) and the step gets `env: X: ${{ … }}`
under a name no visible env or script variable uses; in github-script, a quoted literal holding only the
expression becomes `process.env.X`. Anything less certain (other shells, quoted heredocs, comments) is
refused. Pinning actions to a commit SHA needs the network and is not offered (`NOT_OFFERED`).
"""

from __future__ import annotations

import re
from pathlib import Path

from core.fixes.model import CannotFix, TextFix
from core.fixes.registry import fixer
from core.fixes.yamledit import ensure_path, indent_unit, insert_lines, node_at, render_scalar, walk
from core.models import Finding, Position
from core.parsing import ParsedFile
from core.patching.proposal import Safety
from core.rules.gha_model import Step, Workflow, expressions, workflow_of
from core.rules.yaml_text import SourceMap
from core.yamlnodes import MappingNode, Node, ScalarNode, compose_documents, get, items, last_line, scalar

_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_SHELL_VARS = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_POSIX_SHELL = re.compile(r"^\s*(?:bash|sh)\b")
_PUSHERS = re.compile(r"\bgit\s+push\b|git-auto-commit-action|add-and-commit|github-push-action", re.I)


def _workflow(parsed: ParsedFile) -> Workflow:
    wf = workflow_of(parsed) if parsed.docs else None
    if wf is None:
        raise CannotFix("the file is not a workflow mapping")
    return wf


def _step(wf: Workflow, finding: Finding) -> Step:
    line = dict(finding.extra).get("step_line", "")
    for step in wf.steps:
        if str(step.node.start_mark.line + 1) == line:
            return step
    raise CannotFix("the step named by the finding is not in the file any more")


def _offset(text: str, line: int, column: int) -> int:
    index = 0
    for _ in range(line - 1):
        index = text.index("\n", index) + 1
    return index + column - 1


# --------------------------------------------------------------------------- template injection


def shell_context(script: str, upto: int) -> str:
    """How the shell reads position `upto` of `script`: bare, double, single, heredoc, heredoc-quoted,
    or comment (a small POSIX-shell quote tracker: escapes, quotes, comments, heredoc bodies)."""
    state = "bare"
    pending: list[tuple[str, bool, bool]] = []  # (delimiter, quoted, strip tabs)
    i = 0
    while i < upto:
        c = script[i]
        if state == "single":
            state = "bare" if c == "'" else state
        elif state == "double":
            if c == "\\":
                i += 1
            elif c == '"':
                state = "bare"
        elif c == "\\":
            i += 1
        elif c == "'":
            state = "single"
        elif c == '"':
            state = "double"
        elif c == "#" and (i == 0 or script[i - 1] in " \t\n;&|("):
            end = script.find("\n", i)
            if end < 0 or end >= upto:
                return "comment"
            i = end
            continue
        elif c == "<" and script.startswith("<<", i) and not script.startswith("<<<", i):
            match = _HEREDOC.match(script, i)
            if match:
                pending.append((match.group(3), bool(match.group(2)), match.group(1) == "-"))
                i = match.end()
                continue
        elif c == "\n" and pending:
            i += 1
            for delimiter, quoted, strip in pending:
                while i < len(script):
                    end = script.find("\n", i)
                    end = len(script) if end < 0 else end
                    line = script[i:end]
                    if (line.lstrip("\t") if strip else line) == delimiter:
                        i = end + 1
                        break
                    if i <= upto <= end:
                        return "heredoc-quoted" if quoted else "heredoc"
                    i = end + 1
            pending = []
            continue
        i += 1
    return state


def _shell_ok(wf: Workflow, step: Step, parsed: ParsedFile) -> None:
    """Refuse steps whose script is not run by bash or sh."""
    shell = scalar(get(step.node, "shell"))
    if shell is None and step.job is not None:
        job = next(j for j in wf.jobs if j.id == step.job)
        shell = scalar(get(get(get(job.node, "defaults"), "run"), "shell")) or \
            scalar(get(get(get(wf.doc, "defaults"), "run"), "shell"))
        runs_on = str(scalar(get(job.node, "runs-on")) or "")
        if shell is None and "windows" in runs_on.lower():
            raise CannotFix("the step runs in PowerShell on Windows")
    if shell is not None and not _POSIX_SHELL.match(shell):
        raise CannotFix(f"the step's shell is {shell!r}, not bash or sh")


def _taken_names(wf: Workflow, step: Step, script: str) -> set[str]:
    """Names the step's script already sees or uses: workflow, job and step env, and its variables."""
    names = {m.group(1) for m in _SHELL_VARS.finditer(script)}
    job = next((j.node for j in wf.jobs if j.id == step.job), None)
    for env in (get(wf.doc, "env"), get(job, "env"), step.env):
        names.update(k.value for k, _ in items(env))
    return names


def _env_name(wanted: str, inner: str, step: Step, taken: set[str]) -> tuple[str, bool]:
    """A name for the env entry, and whether the step already has it with this very expression."""
    own = {k.value: scalar(v) or "" for k, v in items(step.env)}
    base = re.sub(r"[^A-Za-z0-9_]", "_", wanted).upper().strip("_") or "VALUE"
    if base[0].isdigit():
        base = "V_" + base
    for number in range(1, 50):
        name = base if number == 1 else f"{base}_{number}"
        existing = own.get(name)
        if existing is not None and [e.inner for e in expressions(existing)] == [inner]:
            return name, True
        if name not in taken:
            return name, False
    raise CannotFix("no free env name")


def _yaml_escape(raw: str, node: ScalarNode) -> str:
    if node.style == '"':
        return raw.replace("\\", "\\\\").replace('"', '\\"')
    if node.style == "'":
        return raw.replace("'", "''")
    return raw


def _injection(finding: Finding, parsed: ParsedFile) -> TextFix:
    wf = _workflow(parsed)
    step = _step(wf, finding)
    data = dict(finding.extra)
    sink = data.get("sink", "run")
    node = step.run if sink == "run" else step.with_value("script")
    if node is None:
        raise CannotFix("the script is not in the step any more")
    source = SourceMap(parsed.text)
    here = finding.position
    expr = next((e for e in expressions(node.value)
                 if source.span(node, e.start, e.end) == Position(here.line, here.column, here.end_line,
                                                                  here.end_column)), None)
    if expr is None:
        raise CannotFix("the expression is not where the finding points")
    start = _offset(parsed.text, here.line, here.column)
    end = _offset(parsed.text, here.end_line or here.line, here.end_column or here.column)
    if parsed.text[start:end] != node.value[expr.start:expr.end]:
        raise CannotFix("the expression is written with YAML escapes")
    via = re.fullmatch(r"env\.([A-Za-z_]\w*)", expr.inner)
    if via:
        name, exists = via.group(1), True
    else:
        name, exists = _env_name(data.get("env_name", "VALUE"), expr.inner, step,
                                 _taken_names(wf, step, node.value))
    safety = None
    if sink == "run":
        _shell_ok(wf, step, parsed)
        context = shell_context(node.value, expr.start)
        replacement = {"bare": '"${%s}"', "double": "${%s}", "heredoc": "${%s}",
                       "single": "'\"${%s}\"'"}.get(context)
        if replacement is None:
            raise CannotFix(f"the expression sits in a {context.replace('-', ' ')}; rewrite it by hand")
        raw = replacement % name
    else:
        before, after = node.value[expr.start - 1: expr.start], node.value[expr.end: expr.end + 1]
        if not before or before != after or before not in "'\"`":
            raise CannotFix("the expression is not a whole string literal of the script")
        start, end, raw, safety = start - 1, end + 1, f"process.env.{name}", Safety.REVIEW
    if node.style in ("", None) and start == node.start_mark.index and raw[0] in "\"'":
        raise CannotFix("the rewritten plain scalar would start with a quote")
    text = parsed.text[:start] + _yaml_escape(raw, node) + parsed.text[end:]
    spans = [(here.line, here.end_line or here.line)]
    if not exists:
        docs, problem = compose_documents(text)
        if problem is not None:
            raise CannotFix("the rewritten script does not parse")
        moved = next((n for _, n in walk(docs) if isinstance(n, MappingNode)
                      and n.start_mark.line == step.node.start_mark.line
                      and n.start_mark.column == step.node.start_mark.column), None)
        if moved is None:
            raise CannotFix("the step moved")
        value = render_scalar("${{ " + expr.inner + " }}")
        text, span = ensure_path(text, docs, moved, ("env", name), value)
        spans.append(span)
    return TextFix(text, tuple(spans), f"pass `{expr.inner}` to the {sink} through env.{name}",
                   "The value reaches the script as an environment variable, so the shell (or "
                   "JavaScript) sees data, never code, whatever an attacker writes into it.", safety=safety)


@fixer("DT-G001", "safe")
def attacker_text_to_env(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _injection(finding, parsed)


@fixer("DT-G002", "review")
def input_to_env(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    fix = _injection(finding, parsed)
    return TextFix(fix.text, fix.spans, fix.title, fix.rationale + " Review: an input that was meant to "
                   "hold shell code (a command to run) now arrives as one quoted word.", safety=Safety.REVIEW)


# --------------------------------------------------------------------------- permissions


@fixer("DT-G006", "review")
def read_only_token(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    wf = _workflow(parsed)
    if wf.doc.flow_style or get(wf.doc, "permissions") is not None:
        raise CannotFix("the workflow is written in flow style or already has permissions")
    jobs = next((k for k, _ in items(wf.doc) if k.value == "jobs"), None)
    if jobs is None or jobs.start_mark.column != 0:
        raise CannotFix("no top-level jobs: key")
    lines = parsed.text.splitlines()
    at = jobs.start_mark.line  # 0-based line of `jobs:`; comments right above it stay with it
    while at > 0 and lines[at - 1].startswith("#"):
        at -= 1
    block = ["permissions:", " " * indent_unit(parsed.docs) + "contents: read"]
    if at > 0 and not lines[at - 1].strip():
        block.append("")
    text = insert_lines(parsed.text, at, block)
    return TextFix(text, ((at, at + 1),), "set the workflow's token to `contents: read`",
                   "Every job's GITHUB_TOKEN becomes read-only unless the job asks for more. Review: "
                   "jobs that push, comment, publish or deploy need their own `permissions:` block "
                   "granting just that.")


# --------------------------------------------------------------------------- checkout credentials


@fixer("DT-G009", "safe")
def checkout_without_credentials(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    wf = _workflow(parsed)
    step = _step(wf, finding)
    text, span = ensure_path(parsed.text, parsed.docs, step.node, ("with", "persist-credentials"), "false")
    later = [s for s in wf.steps if s.job == step.job and s.node.start_mark.line > step.node.start_mark.line]
    pushes = any(_PUSHERS.search(str(s.run.value if s.run else "") + " " + s.uses_name) for s in later)
    why = "The job's token is no longer written to .git/config, where later steps and uploaded " \
          "artifacts could read it."
    if pushes:
        why += " Review: a later step pushes with git; give that step the token explicitly."
    return TextFix(text, (span,), "checkout with persist-credentials: false", why,
                   safety=Safety.REVIEW if pushes else None)


# --------------------------------------------------------------------------- insecure commands


def _parent(docs: list[Node] | tuple[Node, ...], mapping: MappingNode) -> ScalarNode | None:
    for key, node in walk(docs):
        if node is mapping and isinstance(key, ScalarNode):
            return key
    return None


@fixer("DT-G011", "safe")
def remove_unsecure_commands(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    found = node_at(parsed.docs, finding.position.line, finding.position.column)
    key, value = found if found is not None else (None, None)
    if key is None or value is None:
        raise CannotFix("only the env entry can be removed automatically, not a script line")
    mapping = next((n for _, n in walk(parsed.docs) if isinstance(n, MappingNode)
                    and any(k is key for k, _ in n.value)), None)
    if mapping is None or mapping.flow_style:
        raise CannotFix("the env mapping is written in flow style")
    lines = parsed.text.splitlines(keepends=True)
    first, last = key.start_mark.line, last_line(value)
    if len(mapping.value) == 1:  # the only entry: the now empty `env:` goes too
        parent = _parent(parsed.docs, mapping)
        if parent is None or lines[parent.start_mark.line][: parent.start_mark.column].strip():
            raise CannotFix("the env block cannot be removed on its own")
        first = parent.start_mark.line
    elif lines[first][: key.start_mark.column].strip():
        raise CannotFix("the entry shares its line with other YAML")
    text = "".join(lines[:first] + lines[last + 1:])
    uses_commands = "::set-env" in parsed.text or "::add-path" in parsed.text
    return TextFix(text, ((first + 1, last + 1),), "remove ACTIONS_ALLOW_UNSECURE_COMMANDS",
                   "The ::set-env and ::add-path log commands are refused again, so printed text cannot "
                   "change later steps' environment." + (" Review: this workflow still prints those "
                                                          "commands; write to $GITHUB_ENV instead."
                                                          if uses_commands else ""),
                   safety=Safety.REVIEW if uses_commands else None)
