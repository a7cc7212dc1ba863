"""Dockerfile rules DT-D001…DT-D037: base images, users, secrets, TLS, signatures, packages, layout.

Contract: each rule is handed the shared per-file analysis (`core.rules.dockerfile_shell.facts`, through
`_dockerfile_rule`) and yields hits that point at the offending token (image reference, flag, package,
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
from dataclasses import dataclass

from core.dockerfile import Instruction
from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.redact import redact
from core.rules.base import Hit, ScanContext, rule
from core.rules.dockerfile_shell import ArgsText, DockerfileFacts, RunInfo, ShellCommand, facts
from core.rules.shell_words import (
    SHELLS,
    Word,
    enables_pipefail,
    has_option,
    operands,
    program,
    split_commands,
    unwrap,
)
from core.secrets.keywords import is_secret_key, looks_like_secret_assignment

DOCKERFILE = (FileKind.DOCKERFILE,)
FactsCheck = Callable[[DockerfileFacts, ScanContext], Iterable[Hit]]
_STYLE = ("best-practice",)
_APT = frozenset({"apt-get", "apt"})
_APK = frozenset({"apk"})
_NPM = frozenset({"npm"})
_DOWNLOADERS = frozenset({"curl", "wget"})
_CD = frozenset({"cd"})
_SIZE = ("image-size",)
_REPRO = ("reproducibility",)


# --------------------------------------------------------------------------------------------------
# Shared helpers


def _fix(instruction: Instruction, **extra: str) -> tuple[tuple[str, str], ...]:
    """What a fixer needs: the instruction's line span plus rule-specific keys."""
    base = (("instruction", instruction.keyword), ("line", str(instruction.line)),
            ("end_line", str(instruction.end_line)))
    return base + tuple(sorted(extra.items()))


def _dockerfile_rule(rule_id: str, title: str, severity: Severity, *, help: str, aliases: Iterable[str] = (),
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


def _words(args: ArgsText) -> list[Word]:
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
    return json_words if json_words is not None else _words(args)


@dataclass(frozen=True, slots=True)
class _Assignment:
    key: str
    value: str | None
    key_position: Position
    value_position: Position | None


def _assignments(f: DockerfileFacts, instruction: Instruction) -> list[_Assignment]:
    """`KEY=value` pairs of an ARG or ENV (and the legacy `ENV KEY value with spaces`), parsed once."""
    key = f"assign:{instruction.line}"
    cached = f.memo.get(key)
    if cached is None:
        cached = f.memo[key] = _parse_assignments(f, instruction)
    return cached  # type: ignore[return-value]


def _parse_assignments(f: DockerfileFacts, instruction: Instruction) -> list[_Assignment]:
    args = f.args(instruction)
    words = _words(args)
    if not words:
        return []
    out: list[_Assignment] = []
    if instruction.keyword == "ENV" and "=" not in words[0].text:
        key_word, rest = words[0], words[1:]
        value = " ".join(w.text for w in rest) if rest else None
        value_position = args.position(rest[0].start, rest[-1].end) if rest else None
        return [_Assignment(key_word.text, value, args.word_position(key_word), value_position)]
    for word in words:
        key, equals, value = word.text.partition("=")
        raw_key_end = word.start + args.text[word.start:word.end].find("=") if equals else word.end
        key_position = args.position(word.start, raw_key_end)
        if equals:
            value_position = args.position(raw_key_end + 1, word.end) if raw_key_end + 1 < word.end else None
            out.append(_Assignment(key, value, key_position, value_position))
        else:
            out.append(_Assignment(key, None, key_position, None))
    return out


_FIRST_TOKEN = re.compile(r"\S+")


def _mentions(f: DockerfileFacts, needles: Iterable[str]) -> bool:
    """Cheap prefilter: the lower-cased file text contains one of `needles`."""
    lower = f.memo.get("lower")
    if lower is None:
        lower = f.memo["lower"] = f.parsed.text.lower()
    return any(n in lower for n in needles)  # type: ignore[operator]


def _image_parts(reference: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; the registry port is not a tag."""
    name, _, digest = reference.partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = name[: len(name) - len(tag) - 1]
    return name, tag, digest or None


def _stage_instructions(f: DockerfileFacts, stages: Iterable[int]) -> Iterator[Instruction]:
    wanted = set(stages)
    for instruction in f.dockerfile.instructions:
        if instruction.stage in wanted:
            yield instruction


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


def _commands(f: DockerfileFacts, stages: frozenset[int] | None = None, names: frozenset[str] | None = None
              ) -> Iterator[tuple[RunInfo, ShellCommand, tuple[Word, ...]]]:
    """Every shell command of every RUN (in `stages`, running one of `names`), argv without wrappers."""
    if names is not None and not names & f.programs:
        return
    for run, shell_command, argv, name in f.commands:
        if (stages is None or run.instruction.stage in stages) and (names is None or name in names):
            yield run, shell_command, argv


Call = tuple[RunInfo, ShellCommand, tuple[Word, ...], Word, list[Word]]


def _calls(f: DockerfileFacts, stages: frozenset[int] | None, names: frozenset[str],
           value_options: frozenset[str], subcommands: Iterable[str] | None = None) -> Iterator[Call]:
    """(run, command, argv, sub-command word, operands after it) for every call of a package manager in
    `names` whose sub-command is one of `subcommands` (any, when None)."""
    for run, shell_command, argv in _commands(f, stages, names):
        found = operands(argv[1:], value_options)
        if found and (subcommands is None or found[0].text in subcommands):
            yield run, shell_command, argv, found[0], found[1:]


def _span(command: ShellCommand, first: Word, last: Word) -> Position:
    return command.script.position(first.start, last.end)


def _is_python(name: str) -> bool:
    return re.fullmatch(r"python(?:\d+(?:\.\d+)?)?", name) is not None


def _pip_argv(argv: Sequence[Word]) -> tuple[Word, ...] | None:
    """The argv from `pip` on, for `pip …`, `pip3.12 …` and `python -m pip …`; None otherwise."""
    name = program(argv)
    if re.fullmatch(r"pip(?:\d+(?:\.\d+)?)?", name):
        return tuple(argv)
    if _is_python(name):
        for index, word in enumerate(argv[1:-1], 1):
            if word.text == "-m" and argv[index + 1].text == "pip":
                return tuple(argv[index + 1:])
    return None


def _removes(commands: Iterable[ShellCommand], *paths: str) -> bool:
    """Some `rm` in the RUN deletes one of `paths` (or a folder above it, or its contents)."""
    for shell_command in commands:
        argv = unwrap(shell_command.command.argv)
        if program(argv) != "rm":
            continue
        for word in operands(argv[1:]):
            target = word.text.rstrip("*").rstrip("/")
            if len(target) >= 4 and any(p == target or p.startswith(target + "/") for p in paths):
                return True
    return False


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
        fix = _fix(from_instruction, image=name, reference=resolved)
        if tag is None:
            yield "untagged", Hit(position, f"Base image '{resolved}'{origin} has no tag, so it means "
                                  "'latest': pin a version tag or a digest", fix_data=fix)
        elif tag == "latest":
            yield "latest", Hit(position, f"Base image '{resolved}'{origin} uses the 'latest' tag: pin a "
                                "version tag or a digest", fix_data=fix)


@_dockerfile_rule(
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
    tags=_REPRO,
)
def untagged_base(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for kind, hit in _base_findings(f):
        if kind == "untagged":
            yield hit


@_dockerfile_rule(
    "DT-D002",
    "Base image uses the latest tag",
    Severity.MEDIUM,
    help="""
`latest` is whatever was pushed last: two builds of the same commit can get different bases, and a
breaking or vulnerable release arrives without review. Pin an explicit version tag, or a digest kept
current by a dependency bot, so base image updates show up as reviewable diffs.
""",
    aliases=("hadolint:DL3007", "checkov:CKV_DOCKER_7", "trivy:DS-0001", "kics:Image Version Using 'latest'"),
    tags=_REPRO,
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


@_dockerfile_rule(
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
                  f"The final image runs as '{value}': end with a non-root USER", fix_data=_fix(user))


@_dockerfile_rule(
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
              anchor=f"final-stage:{final.base}", fix_data=_fix(final.instructions[0]))


# --------------------------------------------------------------------------------------------------
# Secrets in ARG / ENV


@_dockerfile_rule(
    "DT-D005",
    "Secret value in ARG or ENV",
    Severity.CRITICAL,
    help="""
A secret-named ARG or ENV holds a real-looking value. It is committed with the Dockerfile, stored in
the image configuration (ENV) or history (ARG), and readable by anyone who can pull the image. Rotate
the secret, remove it from the file, and pass it at build time with
`RUN --mount=type=secret,id=…` (or at run time through the orchestrator's secret store).
""",
    aliases=("hadolint:DL3064", "trivy:DS-0031"),
)
def secret_in_arg_env(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in f.dockerfile.instructions:
        if instruction.keyword not in ("ARG", "ENV"):
            continue
        for item in _assignments(f, instruction):
            if item.value is None or item.value_position is None:
                continue
            if looks_like_secret_assignment(item.key, item.value):
                yield Hit(item.value_position,
                          f"{instruction.keyword} {item.key} holds a plaintext secret "
                          f"({redact(item.value)}): it is stored in the image; use a build secret mount",
                          anchor=f"{instruction.keyword}:{item.key}",
                          fix_data=_fix(instruction, key=item.key))


@_dockerfile_rule(
    "DT-D006",
    "Secret passed through ARG or ENV",
    Severity.MEDIUM,
    help="""
A secret-named ARG or ENV of the final image receives its value from the build (`ARG NPM_TOKEN`,
`ENV TOKEN=$TOKEN`). Build arguments used by RUN are recorded in the image history and ENV values in
its configuration, so the secret ships with the image. Use `RUN --mount=type=secret,id=npm_token,
env=NPM_TOKEN …` instead, which exposes the secret to one command only and stores nothing.
""",
    aliases=("hadolint:DL3064", "trivy:DS-0031"),
)
def secret_passed_through(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for instruction in _stage_instructions(f, f.final_chain):
        if instruction.keyword not in ("ARG", "ENV"):
            continue
        for item in _assignments(f, instruction):
            value = (item.value or "").strip().strip("'\"")
            if is_secret_key(item.key) and (not value or value.startswith("$")):
                yield Hit(item.key_position,
                          f"{instruction.keyword} {item.key} passes a secret into the image metadata; "
                          "use RUN --mount=type=secret", anchor=f"{instruction.keyword}:{item.key}",
                          fix_data=_fix(instruction, key=item.key))


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


@_dockerfile_rule(
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
                  fix_data=_fix(instruction, replace="COPY"))


@_dockerfile_rule(
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
                          fix_data=_fix(instruction, url=word.text))


# --------------------------------------------------------------------------------------------------
# sudo, TLS verification, package signatures, curl | sh


@_dockerfile_rule(
    "DT-D009",
    "sudo used in RUN",
    Severity.MEDIUM,
    help="""
RUN already runs as the current USER; sudo adds nothing at build time but unpredictable TTY and
environment behaviour, and installing it leaves a privilege-escalation path in the image. Switch with
`USER root` for the steps that need it and back to the unprivileged user afterwards.
""",
    aliases=("hadolint:DL3004", "checkov:CKV2_DOCKER_1", "trivy:DS-0010", "kics:Run Using Sudo"),
    mentions=("sudo",),
)
def sudo_in_run(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv in _commands(f):
        full = shell_command.command.argv
        for word in full[: len(full) - len(argv)]:
            if word.text.rsplit("/", 1)[-1] == "sudo":
                yield Hit(shell_command.position(word), "sudo in RUN: use USER instead",
                          fix_data=_fix(run.instruction))
                break


@_dockerfile_rule(
    "DT-D010",
    "TLS certificate verification disabled for a download",
    Severity.HIGH,
    help="""
`curl -k`/`--insecure` and `wget --no-check-certificate` accept any certificate, so anyone on the
network path can replace what the build downloads. Remove the option; if the server uses a private CA,
add that CA to the image (`--cacert`, `--ca-certificate`, or the system trust store) instead.
""",
    aliases=("checkov:CKV2_DOCKER_2", "checkov:CKV2_DOCKER_3"),
)
def insecure_download(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv in _commands(f, None, _DOWNLOADERS):
        name = program(argv)
        word = None
        if name == "curl":
            word = has_option(argv[1:], "k", ("--insecure",))
        elif name == "wget":
            word = has_option(argv[1:], "", ("--no-check-certificate",))
        if word is not None:
            yield Hit(shell_command.position(word), f"{name} {word.text} disables TLS certificate checks",
                      fix_data=_fix(run.instruction, option=word.text))


_TLS_CONFIG_HINTS = ("trusted-host", "strict-ssl", "strictssl", "sslverify")
_SSL_CONFIG_WORD = re.compile(
    r"(?:^|[.\s])(?:sslverify|strict-ssl|enablestrictssl)\s*[=\s]\s*['\"]?(?:0|false|no|off)\b",
    re.IGNORECASE,
)


def _tls_config_word(argv: Sequence[Word]) -> Word | None:
    """The word of a pip/npm/yarn/git/yum/dnf call (or a config line it writes) that turns TLS off."""
    name = program(argv)
    pip = _pip_argv(argv)
    if pip is not None:
        found = has_option(pip[1:], "", ("--trusted-host",))
        if found is not None:
            return found
        texts = [w.text.lower() for w in pip]
        if "config" in texts and any(t.endswith("trusted-host") for t in texts):
            return next(w for w in pip if w.text.lower().endswith("trusted-host"))
    if name in ("npm", "yarn", "pnpm"):
        texts = [w.text.lower() for w in argv]
        for index, text in enumerate(texts):
            if text in ("strict-ssl", "enablestrictssl") and index + 1 < len(texts) and \
                    texts[index + 1] in ("false", "0"):
                return argv[index]
            if re.fullmatch(r"(?:--)?strict-ssl=false", text):
                return argv[index]
    if name == "git":
        texts = [w.text.lower() for w in argv]
        for index, text in enumerate(texts):
            following = texts[index + 1] if index + 1 < len(texts) else ""
            if text == "http.sslverify" and following in ("false", "0", "no", "off"):
                return argv[index]
            if re.fullmatch(r"http\.sslverify=(?:false|0|no|off)", text):
                return argv[index]
    for word in argv[1:]:
        if _SSL_CONFIG_WORD.search(word.text):
            return word
    return None


@_dockerfile_rule(
    "DT-D011",
    "TLS certificate verification disabled in a tool's configuration",
    Severity.HIGH,
    help="""
pip `--trusted-host`, npm/yarn `strict-ssl false`, git `http.sslVerify false` and yum/dnf
`sslverify=0` make the tool accept any certificate, so packages and sources can be swapped in transit
— and the setting often stays in the image for later commands too. Remove it; trust a private CA by
installing its certificate (`pip --cert`, `npm config set cafile`, `git config http.sslCAInfo`).
""",
    aliases=("checkov:CKV2_DOCKER_4", "checkov:CKV2_DOCKER_13", "checkov:CKV2_DOCKER_15"),
)
def insecure_tool_config(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if not _mentions(f, _TLS_CONFIG_HINTS):
        return
    for run, shell_command, argv in _commands(f):
        word = _tls_config_word(argv)
        if word is not None:
            yield Hit(shell_command.position(word),
                      f"{program(argv)}: '{word.text}' disables TLS certificate checks",
                      fix_data=_fix(run.instruction, option=word.text))


def _tls_env_problem(key: str, value: str) -> str | None:
    """Why `key=value` disables TLS verification, or None."""
    value = value.strip().strip("'\"")
    upper = key.upper()
    if upper == "NODE_TLS_REJECT_UNAUTHORIZED" and value == "0":
        return "makes Node.js accept any certificate"
    if upper == "PYTHONHTTPSVERIFY" and value == "0":
        return "turns off certificate checks in Python's HTTPS client"
    if upper == "NPM_CONFIG_STRICT_SSL" and value.lower() in ("false", "0"):
        return "turns off npm's certificate checks"
    if upper == "GIT_SSL_NO_VERIFY":
        return "turns off git's certificate checks (whatever its value)"
    if upper in ("PIP_TRUSTED_HOST", "GOINSECURE") and value:
        return "makes the tool skip certificate checks for those hosts"
    if upper == "GOFLAGS" and "-insecure" in value:
        return "makes go fetch modules without certificate checks"
    return None


_TLS_ENV_HINTS = ("node_tls_reject_unauthorized", "pythonhttpsverify", "npm_config_strict_ssl",
                  "git_ssl_no_verify", "pip_trusted_host", "goinsecure", "goflags")
_TLS_ENV_WORD = re.compile(
    r"^(NODE_TLS_REJECT_UNAUTHORIZED|PYTHONHTTPSVERIFY|NPM_CONFIG_STRICT_SSL|GIT_SSL_NO_VERIFY|"
    r"PIP_TRUSTED_HOST|GOINSECURE|GOFLAGS)=(.*)$",
    re.IGNORECASE,
)


@_dockerfile_rule(
    "DT-D012",
    "TLS certificate verification disabled by an environment variable",
    Severity.HIGH,
    help="""
`NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0`, `GIT_SSL_NO_VERIFY`, `NPM_CONFIG_STRICT_SSL=false`,
`PIP_TRUSTED_HOST` and `GOINSECURE` turn off certificate checks for every later command; set with ENV
they stay on in the running container, so the application itself talks TLS without verifying anyone.
Remove the variable and install the private CA certificate into the image's trust store instead.
""",
    aliases=("checkov:CKV2_DOCKER_5", "checkov:CKV2_DOCKER_6", "checkov:CKV2_DOCKER_12",
             "checkov:CKV2_DOCKER_14", "checkov:CKV2_DOCKER_16", "checkov:CKV2_DOCKER_18"),
)
def insecure_tls_env(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if not _mentions(f, _TLS_ENV_HINTS):
        return
    for instruction in f.dockerfile.instructions:
        if instruction.keyword in ("ARG", "ENV"):
            for item in _assignments(f, instruction):
                if item.value is None:
                    continue
                why = _tls_env_problem(item.key, item.value)
                if why:
                    yield Hit(item.value_position or item.key_position,
                              f"{instruction.keyword} {item.key}={item.value.strip()} {why}",
                              anchor=f"{instruction.keyword}:{item.key}",
                              fix_data=_fix(instruction, key=item.key))
    for run, shell_command, _argv in _commands(f):
        for word in shell_command.command.words:
            match = _TLS_ENV_WORD.match(word.text)
            if match:
                why = _tls_env_problem(match.group(1), match.group(2))
                if why:
                    yield Hit(shell_command.position(word), f"{word.text} {why}",
                              fix_data=_fix(run.instruction, key=match.group(1)))


_UNSIGNED_FLAGS = {
    "apt-get": ("--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories"),
    "apt": ("--allow-unauthenticated", "--allow-insecure-repositories"),
    "aptitude": ("--allow-untrusted",),
    "yum": ("--nogpgcheck",),
    "dnf": ("--nogpgcheck",),
    "microdnf": ("--nogpgcheck",),
    "tdnf": ("--nogpgcheck",),
    "zypper": ("--no-gpg-checks",),
    "apk": ("--allow-untrusted",),
    "rpm": ("--nosignature", "--nodigest", "--noverify", "--nofiledigest"),
}
_UNSIGNED_HINTS = ("allow-unauth", "force-yes", "allow-insecure", "allow-untrusted", "gpgcheck", "gpg-check",
                   "--nosignature", "--nodigest", "--noverify", "--nofiledigest", "trusted=yes",
                   "allowunauthenticated", "allowinsecurerepositories")
_UNSIGNED_CONFIG = re.compile(
    r"(?:^|[\s.:\[])(?:gpgcheck\s*=\s*(?:0|false|no)\b|trusted=yes\b|"
    r"APT::Get::AllowUnauthenticated\s*=?\s*['\"]?(?:true|1|yes)\b|"
    r"Acquire::AllowInsecureRepositories\s*=?\s*['\"]?(?:true|1|yes)\b)",
    re.IGNORECASE,
)


@_dockerfile_rule(
    "DT-D013",
    "Package signature verification disabled",
    Severity.HIGH,
    help="""
`--allow-unauthenticated`, `--force-yes`, `--nogpgcheck`, `--allow-untrusted`, `rpm --nosignature` and
`gpgcheck=0` install packages whose signatures were not checked, so a tampered mirror or a
man-in-the-middle can put any code into the image. Remove the option and import the repository's
signing key (`/etc/apt/keyrings`, `rpm --import`, `/etc/apk/keys`) instead.
""",
    aliases=("checkov:CKV2_DOCKER_7", "checkov:CKV2_DOCKER_8", "checkov:CKV2_DOCKER_9",
             "checkov:CKV2_DOCKER_10", "checkov:CKV2_DOCKER_11"),
)
def unsigned_packages(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if not _mentions(f, _UNSIGNED_HINTS):
        return
    for run, shell_command, argv in _commands(f):
        name = program(argv)
        flags = _UNSIGNED_FLAGS.get(name)
        word = has_option(argv[1:], "", flags) if flags else None
        if word is None:
            word = next((w for w in argv[1:] if _UNSIGNED_CONFIG.search(w.text)), None)
        if word is not None:
            yield Hit(shell_command.position(word), f"{name}: '{word.text}' skips package signature checks",
                      fix_data=_fix(run.instruction, option=word.text))


def _pipelines(commands: Sequence[ShellCommand]) -> list[list[ShellCommand]]:
    """Commands joined by `|`, in order (see `shell_words.pipelines`)."""
    groups: list[list[ShellCommand]] = []
    for command in commands:
        if command.command.piped_from and groups:
            groups[-1].append(command)
        else:
            groups.append([command])
    return groups


_INTERPRETERS = SHELLS | {"python", "python2", "python3", "perl", "ruby", "node", "php"}
_FETCH_IN_WORD = re.compile(r"(?:\$\(|`|<\()\s*(?:\S*/)?(?:curl|wget)\b")


def _downloads_to_stdout(argv: Sequence[Word]) -> bool:
    name = program(argv)
    if name == "curl":
        return has_option(argv[1:], "o", ("--output",)) is None and \
            has_option(argv[1:], "O", ("--remote-name", "--remote-name-all")) is None
    if name == "wget":
        texts = [w.text for w in argv[1:]]
        for index, text in enumerate(texts):
            if re.fullmatch(r"-[a-zA-Z]*O-|--output-document=-", text):
                return True
            if re.fullmatch(r"-[a-zA-Z]*O|--output-document", text) and index + 1 < len(texts) and \
                    texts[index + 1] in ("-", "/dev/stdout"):
                return True
    return False


@_dockerfile_rule(
    "DT-D014",
    "Remote script piped into a shell",
    Severity.HIGH,
    help="""
`curl … | sh` (or `wget -O- … | bash`, `sh -c "$(curl …)"`, `bash <(curl …)`) runs whatever the server
returns at build time, unreviewed and unpinned; a compromised host or a truncated download executes in
your build with its credentials. Download the script to a file, verify its checksum or signature, then
run it — or install the tool from a signed package.
""",
    aliases=(),
    mentions=("curl", "wget"),
)
def curl_pipe_shell(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run in f.runs:
        commands = list(run.commands)
        for located in _pipelines(commands):
            fetch = next((c for c in located if _downloads_to_stdout(unwrap(c.command.argv))), None)
            if fetch is None:
                continue
            after = located[located.index(fetch) + 1:]
            runner = next((c for c in after if program(unwrap(c.command.argv)) in _INTERPRETERS), None)
            if runner is not None:
                first = unwrap(fetch.command.argv)[0]
                last = unwrap(runner.command.argv)[0]
                yield Hit(_span(fetch, first, last),
                          f"{program([first])} output is piped into {program([last])}: "
                          "verify the script first",
                          fix_data=_fix(run.instruction))
        for shell_command in commands:
            argv = unwrap(shell_command.command.argv)
            if program(argv) not in _INTERPRETERS | {"eval", "source", "."}:
                continue
            for word in argv[1:]:
                if _FETCH_IN_WORD.search(word.text):
                    yield Hit(_span(shell_command, argv[0], word),
                              f"{program(argv)} runs a script fetched at build time: verify it first",
                              fix_data=_fix(run.instruction))
                    break


# --------------------------------------------------------------------------------------------------
# pipefail

_NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")


def _shell_state(f: DockerfileFacts) -> dict[int, tuple[bool, bool]]:
    """For each RUN line: (shell is POSIX, pipefail already on) from the SHELL instructions in force."""
    state: dict[int, tuple[bool, bool]] = {}
    per_stage: dict[int, tuple[bool, bool]] = {}
    for instruction in f.dockerfile.instructions:
        stage = instruction.stage
        if instruction.keyword == "FROM":
            parent = f.parents.get(stage)
            per_stage[stage] = per_stage.get(parent, (True, False)) if parent is not None else (True, False)
        elif instruction.keyword == "SHELL":
            values = instruction.json_args() or []
            shell = values[0].rsplit("/", 1)[-1].lower() if values else "sh"
            posix = not shell.startswith(_NON_POSIX_SHELLS)
            pipefail = any(
                v.startswith("-") and not v.startswith("--") and v.endswith("o") and
                i + 1 < len(values) and values[i + 1] == "pipefail"
                for i, v in enumerate(values)
            )
            per_stage[stage] = (posix, pipefail)
        elif instruction.keyword == "RUN":
            state[instruction.line] = per_stage.get(stage, (True, False))
    return state


@_dockerfile_rule(
    "DT-D015",
    "Pipe in RUN without pipefail",
    Severity.LOW,
    help="""
A RUN's exit status is that of the last command of a pipeline, so in `curl … | tar x` a failed download
still gives a "successful" layer built from nothing. Start the RUN with `set -o pipefail &&` (bash, ash,
zsh) or set `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` once for the stage.
""",
    aliases=("hadolint:DL4006", "trivy:DS-0032"),
    tags=("reliability",),
    mentions=("|",),
)
def pipe_without_pipefail(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    state = _shell_state(f)
    for run in f.runs:
        posix, pipefail = state.get(run.instruction.line, (True, False))
        if not posix or pipefail:
            continue
        for shell_command in run.commands:
            command = shell_command.command
            if enables_pipefail(command):
                break
            if command.pipes_into_next and command.op_start >= 0:
                yield Hit(shell_command.script.position(command.op_start, command.op_start + len(command.op)),
                          f"'{command.name} | …' without 'set -o pipefail': a failure before the pipe "
                          "is ignored", fix_data=_fix(run.instruction))
                break


# --------------------------------------------------------------------------------------------------
# EXPOSE, WORKDIR, cd

_PORT_SPEC = re.compile(r"^(\d+)(?:-(\d+))?(?:/(?:tcp|udp|sctp))?$", re.IGNORECASE)


@_dockerfile_rule(
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
        for word in _words(args):
            match = _PORT_SPEC.match(f.resolve(word.text)[0])
            if match and int(match.group(1)) <= 22 <= int(match.group(2) or match.group(1)):
                yield Hit(args.word_position(word), f"EXPOSE {word.text} opens the SSH port",
                          fix_data=_fix(instruction, port=word.text))


@_dockerfile_rule(
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
                  "absolute path", fix_data=_fix(instruction, path=path))


@_dockerfile_rule(
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
    for run, shell_command, argv in _commands(f, None, _CD):
        if shell_command.command.depth == 0:
            yield Hit(shell_command.position(argv[0]), "cd in RUN: use WORKDIR",
                      fix_data=_fix(run.instruction))


# --------------------------------------------------------------------------------------------------
# apt

_APT_VALUE_OPTIONS = frozenset({"-o", "--option", "-c", "--config-file", "-t", "--target-release",
                                "--default-release"})


def _apt_calls(f: DockerfileFacts, stages: frozenset[int] | None = None) -> Iterator[Call]:
    return _calls(f, stages, _APT, _APT_VALUE_OPTIONS)


def _option_values(argv: Sequence[Word], option: str) -> list[str]:
    out: list[str] = []
    for index, word in enumerate(argv):
        if word.text == option and index + 1 < len(argv):
            out.append(argv[index + 1].text)
        elif word.text.startswith(option + "="):
            out.append(word.text.split("=", 1)[1])
        elif option == "-o" and word.text.startswith("-o") and len(word.text) > 2:
            out.append(word.text[2:])
    return out


@_dockerfile_rule(
    "DT-D019",
    "apt-get install without -y",
    Severity.LOW,
    help="""
Without `-y` apt-get asks for confirmation; a build has no terminal, so the install aborts (or depends
on how stdin happens to be wired). Add `-y` (or `--yes`; `-qq` implies it).
""",
    aliases=("hadolint:DL3014", "trivy:DS-0021"),
    tags=("reliability",),
)
def apt_without_yes(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv, sub, _rest in _apt_calls(f):
        if sub.text not in ("install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge",
                            "autoremove"):
            continue
        options = argv[1:]
        if has_option(options, "y", ("--yes", "--assume-yes")) or any(
            w.text in ("-qq", "-q=2", "--quiet=2") for w in options
        ) or any(re.match(r"APT::Get::Assume-Yes=(?:true|1|yes)", v, re.IGNORECASE)
                 for v in _option_values(argv, "-o")):
            continue
        if shell_command.command.piped_from:
            continue  # `yes | apt-get install …`
        where = shell_command.position(sub)
        yield Hit(_span(shell_command, argv[0], sub), f"{program(argv)} {sub.text} without -y",
                  fix_data=_fix(run.instruction, insert="-y", after_line=str(where.line),
                                after_column=str(where.end_column)))


@_dockerfile_rule(
    "DT-D020",
    "apt-get install without --no-install-recommends",
    Severity.LOW,
    help="""
By default apt also installs "recommended" packages, often doubling the image with tools the
application never uses (and their vulnerabilities). Add `--no-install-recommends` and list what you
really need. Only the final image is checked; a global `APT::Install-Recommends "0"` setting counts.
""",
    aliases=("hadolint:DL3015", "trivy:DS-0029"),
    tags=_SIZE,
)
def apt_recommends(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    if "Install-Recommends" in f.parsed.text:
        return
    for run, shell_command, argv, sub, _rest in _apt_calls(f, f.final_chain):
        if sub.text != "install" or has_option(argv[1:], "", ("--no-install-recommends",)):
            continue
        yield Hit(_span(shell_command, argv[0], sub),
                  f"{program(argv)} install without --no-install-recommends",
                  fix_data=_fix(run.instruction, insert="--no-install-recommends"))


def _unpinned_hit(run: RunInfo, shell_command: ShellCommand, manager: str, packages: list[Word]) -> Hit:
    names = ", ".join(w.text for w in packages[:5])
    if len(packages) > 5:
        names += f", … ({len(packages)} packages)"
    return Hit(_span(shell_command, packages[0], packages[-1]),
               f"{manager} installs packages without a version: {names}",
               fix_data=_fix(run.instruction, packages=" ".join(w.text for w in packages)))


def _is_local_or_dynamic(text: str) -> bool:
    return "$" in text or text.startswith((".", "/", "~")) or "://" in text


@_dockerfile_rule(
    "DT-D021",
    "apt packages not pinned",
    Severity.LOW,
    help="""
`apt-get install curl` takes whatever version the mirror has today, so rebuilding the same commit can
change the image. Pin versions (`curl=8.5.0-2`) where reproducibility matters, and let a bot update
them; remember that Debian and Ubuntu mirrors drop old versions, so pin together with a dated base.
""",
    aliases=("hadolint:DL3008", "kics:Apt Get Install Pin Version Not Defined"),
    tags=_REPRO,
)
def apt_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv, sub, rest in _apt_calls(f):
        if sub.text != "install":
            continue
        packages = [w for w in rest if "=" not in w.text and not w.text.endswith(".deb")
                    and not _is_local_or_dynamic(w.text)]
        if packages:
            yield _unpinned_hit(run, shell_command, program(argv), packages)


@_dockerfile_rule(
    "DT-D022",
    "apt lists left in the image",
    Severity.LOW,
    help="""
`apt-get update` downloads package lists (tens of MB) into /var/lib/apt/lists; unless the same RUN
deletes them they stay in the layer for good. End the RUN with `&& rm -rf /var/lib/apt/lists/*`, or use
`RUN --mount=type=cache,target=/var/lib/apt/lists`. Only the final image is checked.
""",
    aliases=("hadolint:DL3009",),
    tags=_SIZE,
)
def apt_lists_left(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    reported: set[int] = set()
    for run, shell_command, argv, sub, _rest in _apt_calls(f, f.final_chain):
        line = run.instruction.line
        if sub.text != "update" or line in reported:
            continue
        reported.add(line)
        if run.has_cache_mount("/var/lib/apt/lists") or _removes(run.commands, "/var/lib/apt/lists"):
            continue
        yield Hit(_span(shell_command, argv[0], sub), "apt lists are not removed in the same RUN",
                  fix_data=_fix(run.instruction, append="rm -rf /var/lib/apt/lists/*"))


# --------------------------------------------------------------------------------------------------
# apk

_APK_VALUE_OPTIONS = frozenset({"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch",
                                "--keys-dir", "--cache-dir", "--repositories-file"})


def _apk_adds(f: DockerfileFacts, stages: frozenset[int] | None = None) -> Iterator[Call]:
    return _calls(f, stages, _APK, _APK_VALUE_OPTIONS, ("add",))


@_dockerfile_rule(
    "DT-D023",
    "apk packages not pinned",
    Severity.LOW,
    help="""
`apk add curl` installs whatever the Alpine mirror has at build time. Pin versions (`curl=8.5.0-r0`, or
`curl~8.5` to follow patch releases) so a rebuild gives the same image, and update them on purpose.
""",
    aliases=("hadolint:DL3018",),
    tags=_REPRO,
)
def apk_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, _argv, _sub, rest in _apk_adds(f):
        packages = [w for w in rest if not re.search(r"[=~<>]", w.text) and not w.text.endswith(".apk")
                    and not _is_local_or_dynamic(w.text)]
        if packages:
            yield _unpinned_hit(run, shell_command, "apk add", packages)


@_dockerfile_rule(
    "DT-D024",
    "apk add without --no-cache",
    Severity.LOW,
    help="""
Without `--no-cache`, apk keeps its package index in /var/cache/apk and it ends up in the layer. Use
`apk add --no-cache …` (which also makes `apk update` unnecessary), or a cache mount on /var/cache/apk.
Only the final image is checked.
""",
    aliases=("hadolint:DL3019", "trivy:DS-0025"),
    tags=_SIZE,
)
def apk_cache(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv, sub, _rest in _apk_adds(f, f.final_chain):
        caches = ("/var/cache/apk", "/etc/apk/cache")
        if has_option(argv[1:], "", ("--no-cache",)) or run.has_cache_mount(*caches) or \
                _removes(run.commands, *caches):
            continue
        yield Hit(_span(shell_command, argv[0], sub), "apk add without --no-cache",
                  fix_data=_fix(run.instruction, insert="--no-cache"))


# --------------------------------------------------------------------------------------------------
# pip and npm

_PIP_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix", "--root", "--platform",
    "--python-version", "--implementation", "--abi", "--src", "--cache-dir", "--progress-bar", "-C",
    "--config-settings", "--global-option", "--upgrade-strategy", "--only-binary", "--no-binary", "--log",
    "--proxy", "--retries", "--timeout", "--exists-action", "--cert", "--client-cert", "--report",
    "--root-user-action", "--python",
})
_PIP_PINNED = re.compile(r"(?:===?|~=|>=|<=|!=|<|>|@)")
_PIP_TOOLS = frozenset({"pip", "setuptools", "wheel"})


def _pip_installs(f: DockerfileFacts, stages: frozenset[int] | None = None) -> Iterator[Call]:
    """Like `_calls`, for pip however it is invoked (`pip3.12`, `python -m pip`); argv starts at pip."""
    for run, shell_command, argv in _commands(f, stages):
        pip = _pip_argv(argv)
        found = operands(pip[1:], _PIP_VALUE_OPTIONS) if pip is not None else []
        if pip is not None and found and found[0].text == "install":
            yield run, shell_command, pip, found[0], found[1:]


@_dockerfile_rule(
    "DT-D025",
    "pip packages not pinned",
    Severity.LOW,
    help="""
`pip install requests` resolves to the newest release at build time, so a rebuild can pull a breaking
or compromised version. Pin (`requests==2.32.3`), or install from a requirements or constraints file
with pinned versions and hashes. Bootstrapping pip, setuptools and wheel is not flagged.
""",
    aliases=("hadolint:DL3013",),
    tags=_REPRO,
)
def pip_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, pip, _sub, rest in _pip_installs(f):
        if has_option(pip[1:], "c", ("--constraint",)):
            continue
        packages = [
            w for w in rest
            if not _PIP_PINNED.search(w.text) and not _is_local_or_dynamic(w.text)
            and not w.text.endswith((".whl", ".tar.gz", ".zip")) and not w.text.startswith("git+")
            and re.sub(r"\[.*\]$", "", w.text).lower() not in _PIP_TOOLS
        ]
        if packages:
            yield _unpinned_hit(run, shell_command, "pip install", packages)


def _pip_cache_disabled(f: DockerfileFacts, run: RunInfo, command: ShellCommand) -> bool:
    """PIP_NO_CACHE_DIR set by ENV/ARG in the image's stages, by `export`, or on the command itself."""
    chain = frozenset(f.stage_chain(run.instruction.stage)) if run.instruction.stage >= 0 else frozenset()
    for instruction in _stage_instructions(f, chain | {-1}):
        if instruction.keyword in ("ENV", "ARG") and "PIP_NO_CACHE_DIR" in instruction.args.upper():
            return True
    for other in run.commands:
        if other.index > command.index:
            break
        if any(w.text.upper().startswith("PIP_NO_CACHE_DIR=") for w in other.command.words):
            return True
    return False


@_dockerfile_rule(
    "DT-D026",
    "pip install without --no-cache-dir",
    Severity.LOW,
    help="""
pip keeps every downloaded wheel in ~/.cache/pip, which then ships in the layer and can add hundreds of
MB. Use `pip install --no-cache-dir …`, set `ENV PIP_NO_CACHE_DIR=1`, or mount a build cache on
/root/.cache/pip. Only the final image is checked.
""",
    aliases=("hadolint:DL3042",),
    tags=_SIZE,
)
def pip_cache(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, pip, sub, _rest in _pip_installs(f, f.final_chain):
        if has_option(pip[1:], "", ("--no-cache-dir", "--cache-dir")) or \
                any(t.rstrip("/").endswith((".cache/pip", ".cache")) for t in run.mount_targets("cache")) or \
                any("/.cache" in t for t in run.mount_targets("tmpfs")) or \
                _removes(run.commands, "/root/.cache/pip", "~/.cache/pip", "$HOME/.cache/pip") or \
                _pip_cache_disabled(f, run, shell_command):
            continue
        yield Hit(_span(shell_command, pip[0], sub), "pip install without --no-cache-dir",
                  fix_data=_fix(run.instruction, insert="--no-cache-dir"))


_NPM_VALUE_OPTIONS = frozenset({"--prefix", "--registry", "--cache", "-w", "--workspace", "--tag",
                                "--userconfig", "--omit", "--include"})
_NPM_INSTALL = ("install", "i", "add", "isntall", "in")


@_dockerfile_rule(
    "DT-D027",
    "npm packages not pinned",
    Severity.LOW,
    help="""
`npm install -g typescript` installs the newest release at build time. Pin (`typescript@5.4.5`), or
install the project's dependencies from its lockfile with `npm ci`, so rebuilds are reproducible and a
hijacked release does not slip in.
""",
    aliases=("hadolint:DL3016",),
    tags=_REPRO,
)
def npm_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, _argv, _sub, rest in _calls(f, None, _NPM, _NPM_VALUE_OPTIONS, _NPM_INSTALL):
        packages = []
        for word in rest:
            text = word.text
            name, _, version = text[1:].partition("@") if text.startswith("@") else text.partition("@")
            if _is_local_or_dynamic(text) or text.endswith((".tgz", ".tar.gz")) or ":" in text or \
                    ("/" in name and not text.startswith("@")):
                continue
            if not version or version in ("latest", "next", "*"):
                packages.append(word)
        if packages:
            yield _unpinned_hit(run, shell_command, "npm install", packages)


# --------------------------------------------------------------------------------------------------
# yum / dnf

_RPM_VALUE_OPTIONS = frozenset({"-x", "--exclude", "-c", "--config", "--installroot", "--releasever",
                                "--enablerepo", "--disablerepo", "--repo", "--repoid"})
_RPM_PINNED = re.compile(r"-\d")


def _rpm_installs(f: DockerfileFacts, managers: frozenset[str], stages: frozenset[int] | None = None
                  ) -> Iterator[Call]:
    return _calls(f, stages, managers, _RPM_VALUE_OPTIONS, ("install", "groupinstall", "reinstall"))


def _rpm_unpinned(f: DockerfileFacts, managers: frozenset[str]) -> Iterator[Hit]:
    for run, shell_command, argv, _sub, rest in _rpm_installs(f, managers):
        packages = [w for w in rest if not _RPM_PINNED.search(w.text) and not w.text.endswith(".rpm")
                    and not w.text.startswith("@") and not _is_local_or_dynamic(w.text)]
        if packages:
            yield _unpinned_hit(run, shell_command, f"{program(argv)} install", packages)


def _rpm_cache_left(f: DockerfileFacts, managers: frozenset[str], cache: str) -> Iterator[Hit]:
    for run, shell_command, argv, sub, _rest in _rpm_installs(f, managers, f.final_chain):
        cleaned = any(
            program(a) in managers and [w.text for w in a[1:3]] == ["clean", "all"]
            for a in (unwrap(c.command.argv) for c in run.commands)
        )
        if cleaned or run.has_cache_mount(cache) or _removes(run.commands, cache):
            continue
        yield Hit(_span(shell_command, argv[0], sub),
                  f"{program(argv)} install without '{program(argv)} clean all'",
                  fix_data=_fix(run.instruction, append=f"{program(argv)} clean all"))


_YUM = frozenset({"yum"})
_DNF = frozenset({"dnf", "microdnf", "tdnf"})


@_dockerfile_rule(
    "DT-D028",
    "yum packages not pinned",
    Severity.LOW,
    help="""
`yum install -y httpd` takes whatever version the repositories have at build time. Pin with
`httpd-2.4.57` (name-version) so rebuilds give the same image and upgrades are deliberate.
""",
    aliases=("hadolint:DL3033",),
    tags=_REPRO,
)
def yum_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_unpinned(f, _YUM)


@_dockerfile_rule(
    "DT-D029",
    "yum cache left in the image",
    Severity.LOW,
    help="""
yum keeps repository metadata and packages in /var/cache/yum; unless the same RUN ends with
`yum clean all` they stay in the layer. Add `&& yum clean all` (or `rm -rf /var/cache/yum`), or use a
cache mount. Only the final image is checked.
""",
    aliases=("hadolint:DL3032", "trivy:DS-0015"),
    tags=_SIZE,
)
def yum_cache(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_cache_left(f, _YUM, "/var/cache/yum")


@_dockerfile_rule(
    "DT-D030",
    "dnf packages not pinned",
    Severity.LOW,
    help="""
`dnf install -y nginx` takes whatever version the repositories have at build time. Pin with
`nginx-1.24.0` (name-version) so rebuilds give the same image and upgrades are deliberate.
""",
    aliases=("hadolint:DL3041", "kics:Missing Version Specification In dnf install"),
    tags=_REPRO,
)
def dnf_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_unpinned(f, _DNF)


@_dockerfile_rule(
    "DT-D031",
    "dnf cache left in the image",
    Severity.LOW,
    help="""
dnf (and microdnf) keep metadata and packages in /var/cache/dnf; unless the same RUN ends with
`dnf clean all` they stay in the layer. Add `&& dnf clean all`, or use a cache mount. Only the final
image is checked.
""",
    aliases=("hadolint:DL3040", "trivy:DS-0019"),
    tags=_SIZE,
)
def dnf_cache(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_cache_left(f, _DNF, "/var/cache/dnf")


# --------------------------------------------------------------------------------------------------
# CMD / ENTRYPOINT / MAINTAINER / HEALTHCHECK


@_dockerfile_rule(
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
                  fix_data=_fix(instruction))


@_dockerfile_rule(
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
                      "org.opencontainers.image.authors", fix_data=_fix(instruction))


def _repeated(f: DockerfileFacts, keyword: str) -> Iterator[Hit]:
    for stage in f.dockerfile.stages:
        seen = [i for i in stage.instructions if i.keyword == keyword]
        for previous, instruction in itertools.pairwise(seen):
            yield Hit(f.keyword_position(instruction),
                      f"Second {keyword} in this stage: the one on line {previous.line} has no effect",
                      fix_data=_fix(previous))


@_dockerfile_rule(
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


@_dockerfile_rule(
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


@_dockerfile_rule(
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
              anchor=f"final-stage:{final.base}", fix_data=_fix(final.instructions[0]))


# --------------------------------------------------------------------------------------------------
# Build context

_WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "./."})


@_dockerfile_rule(
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
                          "no .dockerignore", fix_data=_fix(instruction, create=candidates[0]))
                break
