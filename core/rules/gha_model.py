"""A GitHub Actions workflow or composite action, read once from its composed YAML for every G rule.

Contract: `workflow_of(parsed)` returns a `Workflow` (or None when the document is not a mapping):
its triggers, jobs and steps as composed nodes (merges resolved), the env each step sees and which env
names carry attacker-controlled text. The model is built once per file and shared by all the rules,
so no rule walks the document again. It also classifies expression contexts: `untrusted_context()`
names the attacker-controlled part of `${{ … }}`, `input_context()` the caller-supplied input, and
`expressions()` finds the `${{ … }}` in a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.models import FileKind
from core.parsing import ParsedFile
from core.rules.base import FileCache
from core.rules.yaml_text import SourceMap
from core.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, get, items, scalar, seq

#: `${{ … }}`; GitHub does not allow `}}` inside an expression, so the shortest match is the right one.
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_ANY_INDEX = r"(?:\[[^\]]*\]|\.\*)"
_PERSON = r"(?:author|committer)\.(?:email|name)"
#: Event fields anyone who can open an issue, a PR or push a branch to a fork controls.
_UNTRUSTED = re.compile(
    r"\bgithub\.head_ref\b"
    r"|\bgithub\.event\.(?:"
    r"issue\.(?:title|body)"
    r"|pull_request\.(?:title|body|head\.(?:ref|label|repo\.default_branch))"
    r"|(?:comment|review|review_comment)\.body"
    rf"|head_commit\.(?:message|{_PERSON})"
    rf"|commits{_ANY_INDEX}\.(?:message|{_PERSON})"
    rf"|pages{_ANY_INDEX}\.page_name"
    r"|discussion\.(?:title|body)"
    r"|workflow_run\.(?:head_branch|display_title"
    rf"|head_commit\.(?:message|{_PERSON})|pull_requests{_ANY_INDEX}\.head\.ref)"
    r")\b"
    # a whole event object (`toJSON(github.event.issue)`) carries its title and body too
    r"|\bgithub\.event(?:\.(?:issue|pull_request|comment|review|review_comment|head_commit|commits"
    r"|discussion|workflow_run|pages))?(?![\w.\[])"
)
_INPUT = re.compile(r"\b(?:github\.event\.)?inputs\.([A-Za-z_][\w-]*)")
_ENV_REF = re.compile(r"\benv\.([A-Za-z_]\w*)")
_BOOLEAN_EXPR = re.compile(r"^!?\s*(?:contains|startsWith|endsWith)\s*\(.*\)$|==|!=|<=|>=|[<>]",
                           re.DOTALL)
_SECRET_EXPR = re.compile(r"\bsecrets\.[A-Za-z_]\w*|\bsecrets\[")

#: Triggers that run with the base repository's secrets while fork content is in play.
PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run"})
#: Input types whose values cannot carry shell syntax.
_SAFE_INPUT_TYPES = frozenset({"boolean", "number", "choice", "environment"})


@dataclass(frozen=True, slots=True)
class Expression:
    """One `${{ … }}` in a scalar's value: offsets into the value and the inner text, stripped."""

    start: int
    end: int
    inner: str


def expressions(value: str) -> Iterator[Expression]:
    """Every `${{ … }}` in `value`, in order."""
    if "${{" not in value:
        return
    for match in EXPRESSION.finditer(value):
        yield Expression(match.start(), match.end(), match.group(1).strip())


def _yields_boolean(inner: str) -> bool:
    """`contains(github.event.issue.title, 'x')` and comparisons expand to true/false, not the text."""
    return "||" not in inner and "&&" not in inner and _BOOLEAN_EXPR.search(inner) is not None


def untrusted_context(inner: str) -> str | None:
    """The attacker-controlled context an expression expands to, if any."""
    if _yields_boolean(inner):
        return None
    match = _UNTRUSTED.search(inner)
    return match.group(0) if match else None


def secret_context(inner: str) -> str | None:
    match = _SECRET_EXPR.search(inner)
    return match.group(0) if match else None


def fields(node: Node | None) -> dict[str, Node]:
    """A mapping's keys and values in one pass (merges resolved, the first of duplicate keys wins)."""
    out: dict[str, Node] = {}
    for key, value in items(node):
        out.setdefault(key.value, value)
    return out


@dataclass(frozen=True, slots=True)
class Step:
    """One step: the node, its `uses`/`run`/`with`/`env` values and the env names it sees."""

    node: MappingNode
    job: str | None  # None for a composite action's steps
    uses: ScalarNode | None
    run: ScalarNode | None
    with_: Node | None
    env: Node | None
    #: env name -> untrusted context it is set from, across workflow, job and step env
    tainted_env: dict[str, str]
    #: env names set from `${{ secrets.* }}`
    secret_env: frozenset[str]
    #: `actions/checkout` for `actions/checkout@v4`; '' for run steps
    uses_name: str = ""
    inputs: dict[str, Node] = field(default_factory=dict)

    def with_value(self, key: str) -> ScalarNode | None:
        node = self.inputs.get(key)
        return node if isinstance(node, ScalarNode) else None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    key: ScalarNode
    node: MappingNode
    steps: tuple[Step, ...]
    keys: dict[str, Node] = field(default_factory=dict)

    def get(self, key: str) -> Node | None:
        return self.keys.get(key)


@dataclass(frozen=True, slots=True)
class Workflow:
    """The parts of a workflow (or composite action) that rules look at."""

    doc: MappingNode
    is_action: bool
    triggers: dict[str, Node | None]
    jobs: tuple[Job, ...]
    steps: tuple[Step, ...]
    source: SourceMap
    #: inputs whose declared type cannot carry text (boolean, number, choice)
    typed_inputs: frozenset[str] = field(default=frozenset())

    @property
    def privileged(self) -> bool:
        return not PRIVILEGED_TRIGGERS.isdisjoint(self.triggers)

    def input_context(self, inner: str) -> str | None:
        """A caller- or dispatcher-supplied input an expression expands to (text inputs only)."""
        if _yields_boolean(inner):
            return None
        if not self.is_action and not ({"workflow_dispatch", "workflow_call"} & self.triggers.keys()):
            return None
        for match in _INPUT.finditer(inner):
            if match.group(1) not in self.typed_inputs:
                return match.group(0)
        return None


def _triggers(on: Node | None) -> dict[str, Node | None]:
    if isinstance(on, ScalarNode):
        return {on.value: None}
    if isinstance(on, SequenceNode):
        return {v: None for v in (scalar(n) for n in on.value) if v}
    return {k.value: v for k, v in items(on)}


def _typed_inputs(triggers: dict[str, Node | None]) -> frozenset[str]:
    """Inputs declared with a non-text type in every trigger that declares them."""
    safe: set[str] = set()
    text: set[str] = set()
    for name in ("workflow_dispatch", "workflow_call"):
        for key, spec in items(get(triggers.get(name), "inputs")):
            kind = (scalar(get(spec, "type")) or "string").lower()
            (safe if kind in _SAFE_INPUT_TYPES else text).add(key.value)
    return frozenset(safe - text)


def _env_taint(env: Node | None, into: dict[str, str], secrets: set[str]) -> None:
    for key, value in items(env):
        text = scalar(value) or ""
        for expr in expressions(text):
            context = untrusted_context(expr.inner)
            if context:
                into[key.value] = context
            if secret_context(expr.inner):
                secrets.add(key.value)


def _steps(steps_node: Node | None, job: str | None, tainted: dict[str, str],
           secret: set[str]) -> tuple[Step, ...]:
    out: list[Step] = []
    for node in seq(steps_node):
        if not isinstance(node, MappingNode):
            continue
        keys = fields(node)
        env = keys.get("env")
        step_tainted, step_secret = tainted, secret
        if env is not None:
            step_tainted, step_secret = dict(tainted), set(secret)
            _env_taint(env, step_tainted, step_secret)
        uses, run, with_ = keys.get("uses"), keys.get("run"), keys.get("with")
        uses = uses if isinstance(uses, ScalarNode) else None
        out.append(
            Step(
                node=node,
                job=job,
                uses=uses,
                run=run if isinstance(run, ScalarNode) else None,
                with_=with_,
                env=env,
                tainted_env=step_tainted,
                secret_env=frozenset(step_secret),
                uses_name=str(uses.value).split("@", 1)[0].lower() if uses is not None else "",
                inputs=fields(with_) if with_ is not None else {},
            )
        )
    return tuple(out)


def _build(parsed: ParsedFile) -> Workflow | None:
    if not parsed.docs or not isinstance(parsed.docs[0], MappingNode):
        return None
    doc = parsed.docs[0]
    source = SourceMap(parsed.text)
    if parsed.kind is FileKind.GHA_ACTION:
        runs = get(doc, "runs")
        steps = _steps(get(runs, "steps"), None, {}, set())
        return Workflow(doc, True, {}, (), steps, source)
    triggers = _triggers(get(doc, "on"))
    top_tainted: dict[str, str] = {}
    top_secret: set[str] = set()
    _env_taint(get(doc, "env"), top_tainted, top_secret)
    jobs: list[Job] = []
    for key, node in items(get(doc, "jobs")):
        if not isinstance(node, MappingNode):
            continue
        keys = fields(node)
        tainted, secret = dict(top_tainted), set(top_secret)
        _env_taint(keys.get("env"), tainted, secret)
        jobs.append(Job(key.value, key, node, _steps(keys.get("steps"), key.value, tainted, secret), keys))
    all_steps = tuple(s for j in jobs for s in j.steps)
    return Workflow(doc, False, triggers, tuple(jobs), all_steps, source, _typed_inputs(triggers))


#: The model of a GHA file, built once and shared by every rule run on the same file.
workflow_of = FileCache(_build)


def env_refs(inner: str) -> Iterator[str]:
    """Env names an expression reads (`env.TITLE`)."""
    for match in _ENV_REF.finditer(inner):
        yield match.group(1)


def env_nodes(wf: Workflow) -> Iterator[Node]:
    """Every `env:` mapping in the file: workflow, job, container, service and step level."""
    yield from (n for n in (get(wf.doc, "env"),) if n is not None)
    for job in wf.jobs:
        for node in (job.get("env"), get(job.get("container"), "env")):
            if node is not None:
                yield node
        for _, service in items(job.get("services")):
            env = get(service, "env")
            if env is not None:
                yield env
    for step in wf.steps:
        if step.env is not None:
            yield step.env
