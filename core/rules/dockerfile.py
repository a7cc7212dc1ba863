"""Dockerfile rules: base images, USER, ADD/COPY, EXPOSE, WORKDIR, CMD/ENTRYPOINT, HEALTHCHECK, layout.

Also the machinery every Dockerfile rule module shares (`dockerfile_rule`, `fix_data_for`, the RUN
command walkers); package-manager rules live in `dockerfile_packages`, trust rules (secrets, TLS,
signatures, curl | sh, pipefail, sudo) in `dockerfile_trust`.

Contract: each rule is handed the shared per-file analysis (`core.rules.dockerfile_shell.facts`, through
`dockerfile_rule`) and yields hits that point at the offending token (image reference, flag, package,
`|`, key or value), on the line where it is written inside continued RUNs and heredoc bodies.
Stage-aware: rules about what the container runs as (USER, HEALTHCHECK, CMD) and about caches left in
layers look at the final image only (the final stage and the stages it is built FROM); hygiene rules
apply to every stage. Messages never carry a secret value (`core.redact`). `fix_data` carries the
instruction's line span and the token, for the quick-fix layer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from core.dockerfile import Instruction
from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.rules.base import Hit, ScanContext, rule
from core.rules.dockerfile_shell import ArgsText, DockerfileFacts, RunInfo, ShellCommand, facts
from core.rules.shell_words import Word, program, split_commands

DOCKERFILE = (FileKind.DOCKERFILE,)
FactsCheck = Callable[[DockerfileFacts, ScanContext], Iterable[Hit]]
REPRO = ("reproducibility",)
_STYLE = ("best-practice",)
_CD = frozenset({"cd"})

# --------------------------------------------------------------------------------------------------
# Shared helpers


def fix_data_for(instruction: Instruction, **extra: str) -> tuple[tuple[str, str], ...]:
    """What a fixer needs: the instruction's line span plus rule-specific keys."""
    base = (("instruction", instruction.keyword), ("line", str(instruction.line)),
            ("end_line", str(instruction.end_line)))
    return base + tuple(sorted(extra.items()))


def dockerfile_rule(rule_id: str, title: str, severity: Severity, *, help: str, aliases: Iterable[str] = (),
                     tags: Iterable[str] = ("security",), mentions: Iterable[str] = ()
                     ) -> Callable[[FactsCheck], FactsCheck]:
    """Register a Dockerfile rule that reads the file's shared analysis; it is not run on a file without a
    stage, nor (a cheap prefilter) on one whose text contains none of `mentions`."""
    needles = tuple(mentions)

    def register(fn: FactsCheck) -> FactsCheck:
        def check(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
            if needles and not any(n in parsed.text for n in needles):
                return
            f = facts(parsed)
            if f is not None:
                yield from fn(f, ctx)

        check.__name__ = fn.__name__
        rule(rule_id, title, severity, DOCKERFILE, help=help, aliases=aliases, tags=tags)(check)
        return fn

    return register


def words_of(args: ArgsText) -> list[Word]:
    """All words of an instruction's argument text (shell quoting rules, operators ignored)."""
    return [w for c in split_commands(args.text) for w in c.words]


def _json_words(instruction: Instruction, args: ArgsText) -> list[Word] | None:
    """Exec-form arguments as words located in the text (quotes included in the span)."""
    values = instruction.json_args()
    if values is None:
        return None
    words: list[Word] = []
    cursor = 0
    for value in values:
        start = args.text.find('"', cursor)
        end = args.text.find('"', start + 1)
        while end > 0 and args.text[end - 1] == "\\":
            end = args.text.find('"', end + 1)
        if start < 0 or end < 0:
            break
        words.append(Word(value, start, end + 1, True))
        cursor = end + 1
    return words


def _arg_words(f: DockerfileFacts, instruction: Instruction) -> list[Word]:
    args = f.args(instruction)
    json_words = _json_words(instruction, args)
    return json_words if json_words is not None else words_of(args)

def mentions_any(f: DockerfileFacts, needles: Iterable[str]) -> bool:
    """Cheap prefilter: the lower-cased file text contains one of `needles`."""
    lower = f.memo.get("lower")
    if lower is None:
        lower = f.memo["lower"] = f.parsed.text.lower()
    return any(n in lower for n in needles)  # type: ignore[operator]

def stage_instructions(f: DockerfileFacts, stages: Iterable[int]) -> Iterator[Instruction]:
    wanted = set(stages)
    for instruction in f.dockerfile.instructions:
        if instruction.stage in wanted:
            yield instruction

def run_commands(f: DockerfileFacts, stages: frozenset[int] | None = None, names: frozenset[str] | None = None
              ) -> Iterator[tuple[RunInfo, ShellCommand, tuple[Word, ...]]]:
    """Every shell command of every RUN (in `stages`, running one of `names`), argv without wrappers."""
    if names is not None and not names & f.programs:
        return
    for run, shell_command, argv, name in f.commands:
        if (stages is None or run.instruction.stage in stages) and (names is None or name in names):
            yield run, shell_command, argv

def command_span(command: ShellCommand, first: Word, last: Word) -> Position:
    return command.script.position(first.start, last.end)


def _is_python(name: str) -> bool:
    return re.fullmatch(r"python(?:\d+(?:\.\d+)?)?", name) is not None


def pip_argv(argv: Sequence[Word]) -> tuple[Word, ...] | None:
    """The argv from `pip` on, for `pip …`, `pip3.12 …` and `python -m pip …`; None otherwise."""
    name = program(argv)
    if re.fullmatch(r"pip(?:\d+(?:\.\d+)?)?", name):
        return tuple(argv)
    if _is_python(name):
        for index, word in enumerate(argv[1:-1], 1):
            if word.text == "-m" and argv[index + 1].text == "pip":
                return tuple(argv[index + 1:])
    return None

_FIRST_TOKEN = re.compile(r"\S+")

def _image_parts(reference: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; the registry port is not a tag."""
    name, _, digest = reference.partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = name[: len(name) - len(tag) - 1]
    return name, tag, digest or None

def _final_chain_instructions(f: DockerfileFacts, keyword: str) -> list[Instruction]:
    """Instructions with `keyword` that shape the final image, nearest stage last."""
    chain = list(reversed(f.stage_chain(f.dockerfile.stages[-1].index)))
    return [i for s in chain for i in f.dockerfile.stages[s].instructions if i.keyword == keyword]


def _final_from_position(f: DockerfileFacts) -> Position:
    """The final stage's FROM line, indentation and trailing blanks left out: where "the final image
    lacks X" is reported."""
    number = f.dockerfile.stages[-1].line
    line = f.parsed.line(number)
    return Position(number, len(line) - len(line.lstrip()) + 1, number, len(line.rstrip()) + 1)


# --------------------------------------------------------------------------------------------------
# Base images


def _base_findings(f: DockerfileFacts) -> Iterator[tuple[str, Hit]]:
    """("untagged" | "latest", hit) for every FROM whose image is not pinned to a version."""
    cached = f.memo.get("base")
    if cached is None:
        cached = f.memo["base"] = list(_compute_base_findings(f))
    yield from cached  # type: ignore[misc]


def _compute_base_findings(f: DockerfileFacts) -> Iterator[tuple[str, Hit]]:
    earlier: set[str] = set()
    arg_lines = {i.args.split("=", 1)[0].strip(): i.line for i in f.dockerfile.global_args}
    for stage in f.dockerfile.stages:
        from_instruction = stage.instructions[0] if stage.instructions else None
        base = stage.base
        resolved, _ = f.resolve(base)
        lowered = resolved.lower()
        current = earlier.copy()
        if stage.name:
            earlier.add(stage.name.lower())
        if from_instruction is None or lowered == "scratch" or lowered in current or base.lower() in current:
            continue
        name, tag, digest = _image_parts(resolved)
        if "$" in resolved.rsplit("/", 1)[-1] or digest or not name:
            continue  # decided at build time, or pinned by digest
        args = f.args(from_instruction)
        image = _FIRST_TOKEN.search(args.text)
        if image is None:
            continue
        position = args.position(image.start(), image.end())
        origin = ""
        if resolved != base:
            names = [n for n in arg_lines if f"${n}" in base or "${" + n in base]
            if names:
                origin = f" (from ARG {names[0]} on line {arg_lines[names[0]]})"
        fix = fix_data_for(from_instruction, image=name, reference=resolved)
        if tag is None:
            yield "untagged", Hit(position, f"Base image '{resolved}'{origin} has no tag, so it means "
                                  "'latest': pin a version tag or a digest", fix_data=fix)
        elif tag == "latest":
            yield "latest", Hit(position, f"Base image '{resolved}'{origin} uses the 'latest' tag: pin a "
                                "version tag or a digest", fix_data=fix)


@dockerfile_rule(
    "DT-D001",
    "Base image has no tag",
    Severity.MEDIUM,
    help="""
A FROM without a tag pulls `latest`, so the same Dockerfile builds a different image whenever the base
is republished: builds stop being reproducible and an incompatible or vulnerable base slips in
unnoticed. Pin a version tag (`python:3.12-slim`), or better a digest (`python:3.12-slim@sha256:…`)
updated by a bot. Images built FROM an earlier stage, `scratch` and ARG-templated bases are resolved
first and not flagged.
""",
    aliases=("hadolint:DL3006", "checkov:CKV_DOCKER_7", "trivy:DS-0001", "kics:Image Version Not Explicit"),
    tags=REPRO,
)
def untagged_base(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for kind, hit in _base_findings(f):
        if kind == "untagged":
            yield hit


@dockerfile_rule(
    "DT-D002",
    "Base image uses the latest tag",
    Severity.MEDIUM,
    help="""
`latest` is whatever was pushed last: two builds of the same commit can get different bases, and a
breaking or vulnerable release arrives without review. Pin an explicit version tag, or a digest kept
current by a dependency bot, so base image updates show up as reviewable diffs.
""",
    aliases=("hadolint:DL3007", "checkov:CKV_DOCKER_7", "trivy:DS-0001", "kics:Image Version Using 'latest'"),
    tags=REPRO,
)
def latest_base(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for kind, hit in _base_findings(f):
        if kind == "latest":
            yield hit


# --------------------------------------------------------------------------------------------------
# The user the container runs as

_ROOT_USER = re.compile(r"^(?:root|0)(?::.*)?$")
_NONROOT_BASE = re.compile(r"nonroot|rootless|non-root", re.IGNORECASE)


def _final_user(f: DockerfileFacts) -> Instruction | None:
    users = _final_chain_instructions(f, "USER")
    return users[-1] if users else None


@dockerfile_rule(
    "DT-D003",
    "Final stage runs as root",
    Severity.HIGH,
    help="""
The last USER of the final image is root, so the application runs with every privilege inside the
container, and a compromise or a container escape starts as root. Create an unprivileged user and end
with `USER app` (or a numeric UID such as `USER 10001`); switch to root only for the build steps that
need it. Root in earlier build stages is fine, as they are not shipped.
""",
    aliases=("hadolint:DL3002", "checkov:CKV_DOCKER_8", "trivy:DS-0002", "kics:Last User Is 'root'"),
)
def final_user_root(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    user = _final_user(f)
    if user is None:
        return
    args = f.args(user)
    value, known = f.resolve(args.text.strip())
    if known and _ROOT_USER.match(value.strip("\"'")):
        yield Hit(args.position(0, len(args.text.rstrip())),
                  f"The final image runs as '{value}': end with a non-root USER", fix_data=fix_data_for(user))


@dockerfile_rule(
    "DT-D004",
    "Final stage never sets a USER",
    Severity.MEDIUM,
    help="""
No USER instruction applies to the final image, so the container runs as root unless the base image
set another user. Add a dedicated unprivileged user (`RUN useradd -r -u 10001 app`) and `USER app` near
the end. Bases known to run unprivileged (tags such as `:nonroot`) are not flagged.
""",
    aliases=("checkov:CKV_DOCKER_3", "trivy:DS-0002", "kics:Missing User Instruction"),
)
def final_user_missing(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if _final_user(f) is not None or _NONROOT_BASE.search(f.final_base()):
        return
    final = f.dockerfile.stages[-1]
    yield Hit(_final_from_position(f),
              f"The final stage (FROM {final.base}) never sets USER, so the container runs as root",
              anchor=f"final-stage:{final.base}", fix_data=fix_data_for(final.instructions[0]))


# --------------------------------------------------------------------------------------------------
# ADD

_URL = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)
_GIT_SOURCE = re.compile(r"^(?:git@|ssh://|git://)|\.git(?:#.*)?$", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(?:tar|tar\.(?:gz|bz2|xz|zst)|tgz|tbz2?|txz|tzst)$", re.IGNORECASE)


def _add_sources(f: DockerfileFacts, instruction: Instruction) -> list[Word]:
    if instruction.heredocs:
        return []
    words = _arg_words(f, instruction)
    return words[:-1] if len(words) >= 2 else []


@dockerfile_rule(
    "DT-D007",
    "ADD used to copy local files",
    Severity.LOW,
    help="""
ADD copies local files like COPY but also unpacks archives and fetches URLs, so a reader cannot tell
what it will do, and a file that happens to be a tar archive gets extracted. Use COPY for local files
and folders; keep ADD for a local tar archive you mean to extract.
""",
    aliases=("hadolint:DL3020", "checkov:CKV_DOCKER_4", "trivy:DS-0005", "kics:Add Instead of Copy"),
    tags=_STYLE,
)
def add_local(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword != "ADD":
            continue
        sources = _add_sources(f, instruction)
        if not sources or any(_URL.match(w.text) or _GIT_SOURCE.search(w.text) or _ARCHIVE.search(w.text)
                              or "$" in w.text for w in sources):
            continue
        yield Hit(f.keyword_position(instruction), "ADD of local files: use COPY",
                  fix_data=fix_data_for(instruction, replace="COPY"))


@dockerfile_rule(
    "DT-D008",
    "ADD downloads a remote file without a checksum",
    Severity.MEDIUM,
    help="""
ADD of an http(s) URL trusts whatever the server returns at build time: a compromised or changed file
goes into the image unchecked. Add `--checksum=sha256:…` to the ADD (BuildKit), or download with curl
and verify the checksum in the same RUN.
""",
    aliases=(),
)
def add_remote_unchecked(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword != "ADD" or instruction.flag("checksum"):
            continue
        args = f.args(instruction)
        for word in _add_sources(f, instruction):
            if _URL.match(word.text) and not _GIT_SOURCE.search(word.text):
                yield Hit(args.word_position(word), f"ADD downloads {word.text} without --checksum",
                          fix_data=fix_data_for(instruction, url=word.text))


# --------------------------------------------------------------------------------------------------
# EXPOSE, WORKDIR, cd

_PORT_SPEC = re.compile(r"^(\d+)(?:-(\d+))?(?:/(?:tcp|udp|sctp))?$", re.IGNORECASE)


@dockerfile_rule(
    "DT-D016",
    "SSH port 22 exposed",
    Severity.MEDIUM,
    help="""
Exposing port 22 means the image runs an SSH server, which widens the attack surface and brings keys
and passwords into the container. Use `docker exec` / `kubectl exec` for access and drop the SSH
daemon and the EXPOSE.
""",
    aliases=("checkov:CKV_DOCKER_1", "trivy:DS-0004"),
)
def expose_ssh(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword != "EXPOSE":
            continue
        args = f.args(instruction)
        for word in words_of(args):
            match = _PORT_SPEC.match(f.resolve(word.text)[0])
            if match and int(match.group(1)) <= 22 <= int(match.group(2) or match.group(1)):
                yield Hit(args.word_position(word), f"EXPOSE {word.text} opens the SSH port",
                          fix_data=fix_data_for(instruction, port=word.text))


@dockerfile_rule(
    "DT-D017",
    "Relative WORKDIR",
    Severity.LOW,
    help="""
A relative WORKDIR is resolved against whatever the previous WORKDIR was — possibly one set by the
base image — so the layout silently changes when the base does. Use an absolute path such as
`WORKDIR /app`.
""",
    aliases=("hadolint:DL3000", "checkov:CKV_DOCKER_10", "trivy:DS-0009", "kics:WORKDIR Path Not Absolute"),
    tags=_STYLE,
)
def relative_workdir(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword != "WORKDIR":
            continue
        args = f.args(instruction)
        path = args.text.strip().strip("'\"")
        resolved, _ = f.resolve(path)
        if not path or resolved.startswith(("/", "$", "\\")) or re.match(r"^[A-Za-z]:[\\/]", resolved):
            continue
        start = len(args.text) - len(args.text.lstrip())
        yield Hit(args.position(start, len(args.text.rstrip())), f"WORKDIR {path} is relative: use an "
                  "absolute path", fix_data=fix_data_for(instruction, path=path))


@dockerfile_rule(
    "DT-D018",
    "cd in RUN instead of WORKDIR",
    Severity.INFO,
    help="""
`cd` lasts only for the RUN it is in, so later instructions silently run elsewhere and long
`cd a && … && cd ../b` chains are hard to follow. Set the directory with WORKDIR; a `cd` inside a
subshell `( cd x && make )` is not flagged.
""",
    aliases=("hadolint:DL3003", "trivy:DS-0013"),
    tags=_STYLE,
)
def cd_in_run(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv in run_commands(f, None, _CD):
        if shell_command.command.depth == 0:
            yield Hit(shell_command.position(argv[0]), "cd in RUN: use WORKDIR",
                      fix_data=fix_data_for(run.instruction))


# --------------------------------------------------------------------------------------------------
# CMD / ENTRYPOINT / MAINTAINER / HEALTHCHECK


@dockerfile_rule(
    "DT-D032",
    "Shell-form CMD or ENTRYPOINT",
    Severity.LOW,
    help="""
In shell form (`CMD node server.js`) the process runs under `/bin/sh -c`, which becomes PID 1 and does
not forward SIGTERM, so the application is killed after the stop timeout instead of shutting down
cleanly. Use the JSON form `CMD ["node", "server.js"]`, with double quotes — single quotes make it
shell form again.
""",
    aliases=("hadolint:DL3025", "kics:Not Using JSON In CMD And ENTRYPOINT Arguments"),
    tags=("reliability",),
)
def shell_form_cmd(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    found = (_final_chain_instructions(f, keyword) for keyword in ("CMD", "ENTRYPOINT"))
    effective = [instructions[-1] for instructions in found if instructions]
    for instruction in effective:
        if instruction.is_json:
            continue
        args = f.args(instruction)
        text = args.text.strip()
        if not text:
            continue
        start = len(args.text) - len(args.text.lstrip())
        hint = " (it starts with '[' but is not valid JSON: use double quotes)" if text[0] == "[" else ""
        yield Hit(args.position(start, start + len(text)),
                  f"{instruction.keyword} in shell form: signals will not reach the process{hint}",
                  fix_data=fix_data_for(instruction))


@dockerfile_rule(
    "DT-D033",
    "MAINTAINER is deprecated",
    Severity.INFO,
    help="""
MAINTAINER has been deprecated since Docker 1.13 and is not shown by most tools. Use
`LABEL org.opencontainers.image.authors="team@example.com"` instead.
""",
    aliases=("hadolint:DL4000", "checkov:CKV_DOCKER_6", "trivy:DS-0022"),
    tags=_STYLE,
)
def maintainer(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword == "MAINTAINER":
            yield Hit(f.keyword_position(instruction), "MAINTAINER is deprecated: use LABEL "
                      "org.opencontainers.image.authors", fix_data=fix_data_for(instruction))


def _repeated(f: DockerfileFacts, keyword: str) -> Iterator[Hit]:
    for stage in f.dockerfile.stages:
        seen = [i for i in stage.instructions if i.keyword == keyword]
        for previous, instruction in itertools.pairwise(seen):
            yield Hit(f.keyword_position(instruction),
                      f"Second {keyword} in this stage: the one on line {previous.line} has no effect",
                      fix_data=fix_data_for(previous))


@dockerfile_rule(
    "DT-D034",
    "Several CMD instructions in one stage",
    Severity.LOW,
    help="""
Only the last CMD of a stage takes effect; earlier ones are dead code that misleads readers about what
the container runs. Keep one CMD per stage.
""",
    aliases=("hadolint:DL4003", "trivy:DS-0016"),
    tags=_STYLE,
)
def multiple_cmd(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _repeated(f, "CMD")


@dockerfile_rule(
    "DT-D035",
    "Several ENTRYPOINT instructions in one stage",
    Severity.LOW,
    help="""
Only the last ENTRYPOINT of a stage takes effect; earlier ones are dead code that misleads readers
about what the container runs. Keep one ENTRYPOINT per stage.
""",
    aliases=("hadolint:DL4004", "trivy:DS-0007", "kics:Multiple ENTRYPOINT Instructions Listed"),
    tags=_STYLE,
)
def multiple_entrypoint(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _repeated(f, "ENTRYPOINT")


@dockerfile_rule(
    "DT-D036",
    "No HEALTHCHECK in the final image",
    Severity.LOW,
    help="""
Without a HEALTHCHECK, Docker and Compose only know whether the process is alive, not whether it
serves; a hung service stays "running". Add `HEALTHCHECK CMD …` probing the service (or
`HEALTHCHECK NONE` to say it is deliberate, e.g. when Kubernetes probes are used).
""",
    aliases=("checkov:CKV_DOCKER_2", "trivy:DS-0026"),
    tags=("reliability",),
)
def missing_healthcheck(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if _final_chain_instructions(f, "HEALTHCHECK"):
        return
    final = f.dockerfile.stages[-1]
    yield Hit(_final_from_position(f), "The final image has no HEALTHCHECK",
              anchor=f"final-stage:{final.base}", fix_data=fix_data_for(final.instructions[0]))


# --------------------------------------------------------------------------------------------------
# Build context

_WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "./."})


@dockerfile_rule(
    "DT-D037",
    "Whole build context copied without a .dockerignore",
    Severity.MEDIUM,
    help="""
`COPY . .` copies everything in the build context — `.git`, local `.env` files, credentials, build
output — into the image when no .dockerignore filters it, leaking secrets and bloating layers. Add a
`.dockerignore` next to the Dockerfile (or `<Dockerfile>.dockerignore`) that excludes at least `.git`,
`.env*` and build artefacts, or copy only the paths the image needs.
""",
    aliases=(),
)
def copy_context_without_dockerignore(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    folder = f.parsed.file.directory
    candidates = (f"{folder}/.dockerignore" if folder else ".dockerignore", f"{f.parsed.path}.dockerignore")
    if any(ctx.exists(c) for c in candidates):
        return
    for instruction in f.dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from") is not None or \
                instruction.heredocs:
            continue
        if not _WHOLE_CONTEXT & set(instruction.args.replace('"', " ").replace(",", " ").split()):
            continue
        args = f.args(instruction)
        words = _arg_words(f, instruction)
        for word in words[:-1]:
            if word.text in _WHOLE_CONTEXT:
                yield Hit(args.word_position(word),
                          f"{instruction.keyword} {word.text} copies the whole build context and there is "
                          "no .dockerignore", fix_data=fix_data_for(instruction, create=candidates[0]))
                break
