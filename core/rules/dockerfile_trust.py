"""Dockerfile rules about trust: secrets in ARG/ENV, sudo, TLS verification, package signatures,
remote scripts piped into a shell, and pipes without pipefail.

Contract: as `core.rules.dockerfile` (whose machinery these rules use): hits point at the offending flag,
word, key or value; messages never carry a secret value (`core.redact`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.dockerfile import Instruction
from core.models import Position, Severity
from core.redact import redact
from core.rules.base import Hit, ScanContext
from core.rules.dockerfile import (
    command_span,
    dockerfile_rule,
    fix_data_for,
    mentions_any,
    pip_argv,
    run_commands,
    stage_instructions,
    words_of,
)
from core.rules.dockerfile_shell import DockerfileFacts, ShellCommand
from core.rules.shell_words import SHELLS, Word, enables_pipefail, has_option, program, unwrap
from core.secrets.keywords import is_secret_key, looks_like_secret_assignment

_DOWNLOADERS = frozenset({"curl", "wget"})


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
    words = words_of(args)
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

# --------------------------------------------------------------------------------------------------
# Secrets in ARG / ENV


@dockerfile_rule(
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
                          fix_data=fix_data_for(instruction, key=item.key))


@dockerfile_rule(
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
    for instruction in stage_instructions(f, f.final_chain):
        if instruction.keyword not in ("ARG", "ENV"):
            continue
        for item in _assignments(f, instruction):
            value = (item.value or "").strip().strip("'\"")
            if is_secret_key(item.key) and (not value or value.startswith("$")):
                yield Hit(item.key_position,
                          f"{instruction.keyword} {item.key} passes a secret into the image metadata; "
                          "use RUN --mount=type=secret", anchor=f"{instruction.keyword}:{item.key}",
                          fix_data=fix_data_for(instruction, key=item.key))


# --------------------------------------------------------------------------------------------------
# sudo, TLS verification, package signatures, curl | sh


@dockerfile_rule(
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
    for run, shell_command, argv in run_commands(f):
        full = shell_command.command.argv
        for word in full[: len(full) - len(argv)]:
            if word.text.rsplit("/", 1)[-1] == "sudo":
                yield Hit(shell_command.position(word), "sudo in RUN: use USER instead",
                          fix_data=fix_data_for(run.instruction))
                break


@dockerfile_rule(
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
    for run, shell_command, argv in run_commands(f, None, _DOWNLOADERS):
        name = program(argv)
        word = None
        if name == "curl":
            word = has_option(argv[1:], "k", ("--insecure",))
        elif name == "wget":
            word = has_option(argv[1:], "", ("--no-check-certificate",))
        if word is not None:
            yield Hit(shell_command.position(word), f"{name} {word.text} disables TLS certificate checks",
                      fix_data=fix_data_for(run.instruction, option=word.text))


_TLS_CONFIG_HINTS = ("trusted-host", "strict-ssl", "strictssl", "sslverify")
_SSL_CONFIG_WORD = re.compile(
    r"(?:^|[.\s])(?:sslverify|strict-ssl|enablestrictssl)\s*[=\s]\s*['\"]?(?:0|false|no|off)\b",
    re.IGNORECASE,
)


def _tls_config_word(argv: Sequence[Word]) -> Word | None:
    """The word of a pip/npm/yarn/git/yum/dnf call (or a config line it writes) that turns TLS off."""
    name = program(argv)
    pip = pip_argv(argv)
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


@dockerfile_rule(
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
    if not mentions_any(f, _TLS_CONFIG_HINTS):
        return
    for run, shell_command, argv in run_commands(f):
        word = _tls_config_word(argv)
        if word is not None:
            yield Hit(shell_command.position(word),
                      f"{program(argv)}: '{word.text}' disables TLS certificate checks",
                      fix_data=fix_data_for(run.instruction, option=word.text))


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


@dockerfile_rule(
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
    if not mentions_any(f, _TLS_ENV_HINTS):
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
                              fix_data=fix_data_for(instruction, key=item.key))
    for run, shell_command, _argv in run_commands(f):
        for word in shell_command.command.words:
            match = _TLS_ENV_WORD.match(word.text)
            if match:
                why = _tls_env_problem(match.group(1), match.group(2))
                if why:
                    yield Hit(shell_command.position(word), f"{word.text} {why}",
                              fix_data=fix_data_for(run.instruction, key=match.group(1)))


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


@dockerfile_rule(
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
    if not mentions_any(f, _UNSIGNED_HINTS):
        return
    for run, shell_command, argv in run_commands(f):
        name = program(argv)
        flags = _UNSIGNED_FLAGS.get(name)
        word = has_option(argv[1:], "", flags) if flags else None
        if word is None:
            word = next((w for w in argv[1:] if _UNSIGNED_CONFIG.search(w.text)), None)
        if word is not None:
            yield Hit(shell_command.position(word), f"{name}: '{word.text}' skips package signature checks",
                      fix_data=fix_data_for(run.instruction, option=word.text))


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


@dockerfile_rule(
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
                yield Hit(command_span(fetch, first, last),
                          f"{program([first])} output is piped into {program([last])}: "
                          "verify the script first",
                          fix_data=fix_data_for(run.instruction))
        for shell_command in commands:
            argv = unwrap(shell_command.command.argv)
            if program(argv) not in _INTERPRETERS | {"eval", "source", "."}:
                continue
            for word in argv[1:]:
                if _FETCH_IN_WORD.search(word.text):
                    yield Hit(command_span(shell_command, argv[0], word),
                              f"{program(argv)} runs a script fetched at build time: verify it first",
                              fix_data=fix_data_for(run.instruction))
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


@dockerfile_rule(
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
                          "is ignored", fix_data=fix_data_for(run.instruction))
                break
