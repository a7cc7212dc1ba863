"""Dockerfile quick fixes: package-manager flags, ADD→COPY, MAINTAINER→LABEL, exec-form CMD, a non-root
USER, a HEALTHCHECK skeleton and a .dockerignore.

Contract: fixers edit the lines of the instruction the finding names (`fix_data` line/end_line, or the
finding's own token position) or insert whole instructions at the end of the final stage, before its
trailing metadata (CMD, ENTRYPOINT, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL). Flags are inserted right
after the sub-command the finding points at, inside continued lines and heredoc bodies alike; exec-form
(JSON) RUNs are refused. Choices that depend on the image (which user to create, how to probe health)
follow the final stage's base image family and are marked for review.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

from core.dockerfile import Instruction
from core.fixes.model import CannotFix, SideFile, TextFix
from core.fixes.registry import fixer
from core.fixes.yamledit import insert_lines
from core.models import Finding
from core.parsing import ParsedFile
from core.patching.proposal import Safety
from core.patching.textedit import replace_span
from core.rules.dockerfile_shell import DockerfileFacts, facts

_TAIL = frozenset({"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL"})
_ADD_ONLY_FLAGS = frozenset({"checksum", "keep-git-dir", "unpack"})
#: Characters that give a shell-form command a meaning only a shell provides.
_SHELL_FEATURES = re.compile(r"[$`|&;<>*?(){}\[\]~#\n]")
_USER_ADD = re.compile(r"\b(?:useradd|adduser)\b([^;&|\n]*)")
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\b[^;&|]*\binstall\b")
_ALPINE = frozenset({"alpine", "busybox"})
_DEBIAN = frozenset({"debian", "ubuntu", "python", "golang", "ruby", "openjdk", "eclipse-temurin", "nginx",
                     "httpd", "php", "rust", "perl", "buildpack-deps", "node", "maven", "gradle"})
_RHEL = frozenset({"fedora", "centos", "rockylinux", "almalinux", "amazonlinux", "oraclelinux", "ubi8",
                   "ubi9"})
_DEBIAN_TAGS = re.compile(r"bookworm|bullseye|buster|trixie|jammy|noble|focal|slim")
_DOCKERIGNORE = (".git", ".env", ".env.*", "!.env.example", "**/*.pem", "**/*.key")


def _facts(parsed: ParsedFile) -> DockerfileFacts:
    f = facts(parsed)
    if f is None or not f.dockerfile.stages:
        raise CannotFix("the Dockerfile has no stage")
    return f


def _instruction(f: DockerfileFacts, finding: Finding) -> Instruction:
    line = dict(finding.extra).get("line")
    for instruction in f.dockerfile.instructions:
        if str(instruction.line) == line or (line is None and instruction.line <= finding.line
                                             <= instruction.end_line):
            return instruction
    raise CannotFix("the instruction is not in the file any more")


def _replace_lines(text: str, first: int, last: int, new: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if lines[first - 1].endswith("\r\n") else "\n"
    ending = eol if lines[last - 1].endswith("\n") else ""
    block = eol.join(new) + ending
    return "".join(lines[: first - 1]) + block + "".join(lines[last:])


def _insert_flag(finding: Finding, parsed: ParsedFile, flag: str, title: str, why: str,
                 safety: Safety | None = None) -> TextFix:
    f = _facts(parsed)
    instruction = _instruction(f, finding)
    if instruction.is_json:
        raise CannotFix("the RUN is in exec (JSON) form")
    line, column = finding.position.end_line or finding.line, finding.position.end_column
    if column is None:
        raise CannotFix("the finding has no end column")
    text = replace_span(parsed.text, line, column, line, column, f" {flag}")
    return TextFix(text, ((line, line),), title, why, safety=safety)


@fixer("DT-D019", "safe")
def apt_yes(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _insert_flag(finding, parsed, "-y", "apt-get: add -y",
                        "A build has no terminal to answer apt's question; -y answers it.")


@fixer("DT-D020", "review")
def apt_no_recommends(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _insert_flag(finding, parsed, "--no-install-recommends", "apt-get: --no-install-recommends",
                        "Recommended packages are no longer pulled in, which often halves the layer. Review: "
                        "a program may have relied on one (curl on ca-certificates, for example); list "
                        "it explicitly.")


@fixer("DT-D024", "safe")
def apk_no_cache(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _insert_flag(finding, parsed, "--no-cache", "apk add: --no-cache",
                        "apk fetches the index into memory instead of leaving it in /var/cache/apk in the "
                        "layer.")


@fixer("DT-D026", "safe")
def pip_no_cache(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _insert_flag(finding, parsed, "--no-cache-dir", "pip install: --no-cache-dir",
                        "pip no longer keeps downloaded wheels in ~/.cache/pip inside the layer.")


@fixer("DT-D022", "safe")
def apt_lists(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    f = _facts(parsed)
    instruction = _instruction(f, finding)
    if instruction.is_json or instruction.heredocs:
        raise CannotFix("the RUN is in exec form or uses a heredoc")
    if not _APT_INSTALL.search(instruction.args):
        raise CannotFix("apt-get update and install are in separate RUNs: merge them, then remove the lists")
    last = parsed.line(instruction.end_line)
    body = last.rstrip()
    if re.search(r"(?:^|\s)#", body) or body.endswith((";", "&", "|", f.dockerfile.escape)):
        raise CannotFix("the RUN ends in a way the command cannot be appended to")
    remove = "rm -rf /var/lib/apt/lists/*"
    if instruction.end_line == instruction.line:
        new = [body + f" && {remove}"]
    else:
        indent = last[: len(last) - len(last.lstrip())]
        escape = f.dockerfile.escape
        if body.lstrip().startswith("&&"):
            new = [f"{body} {escape}", f"{indent}&& {remove}"]
        else:
            new = [f"{body} && {escape}", f"{indent}{remove}"]
    text = _replace_lines(parsed.text, instruction.end_line, instruction.end_line, new)
    return TextFix(text, ((instruction.end_line, instruction.end_line),), "apt: remove the package lists",
                   "The lists apt-get update downloads are deleted in the same RUN, so they never reach "
                   "the layer.")


@fixer("DT-D007", "safe")
def add_to_copy(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    f = _facts(parsed)
    instruction = _instruction(f, finding)
    if {name for name, _ in instruction.flags} & _ADD_ONLY_FLAGS:
        raise CannotFix("the ADD uses a flag COPY does not have")
    pos = finding.position
    written = parsed.line(pos.line)[pos.column - 1 : (pos.end_column or pos.column + 3) - 1]
    if written.upper() != "ADD":
        raise CannotFix("the keyword is not where the finding points")
    copy = "COPY" if written.isupper() else "copy" if written.islower() else "Copy"
    text = replace_span(parsed.text, pos.line, pos.column, pos.line, pos.column + 3, copy)
    return TextFix(text, ((pos.line, pos.line),), "ADD → COPY",
                   "COPY does exactly what this ADD did for local files, without ADD's implicit archive "
                   "extraction and URL downloads.")


def _label_value(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


@fixer("DT-D033", "safe")
def maintainer_to_label(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    f = _facts(parsed)
    instruction = _instruction(f, finding)
    first = parsed.line(instruction.line)
    indent = first[: len(first) - len(first.lstrip())]
    keyword = "LABEL" if first.lstrip()[:10].isupper() else "label"
    new = f"{indent}{keyword} org.opencontainers.image.authors={_label_value(instruction.args)}"
    text = _replace_lines(parsed.text, instruction.line, instruction.end_line, [new])
    return TextFix(text, ((instruction.line, instruction.end_line),), "MAINTAINER → LABEL",
                   "The OCI authors label says the same thing and is read by registries and scanners; "
                   "MAINTAINER is deprecated.")


# --------------------------------------------------------------------------- CMD / ENTRYPOINT


def _exec_words(args: str) -> list[str] | None:
    """The exec-form words of a shell-form command, or None when it needs a shell."""
    text = args.strip()
    if text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, list) and value and all(isinstance(v, str) for v in value) else None
    if _SHELL_FEATURES.search(text):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if not words or "=" in words[0]:
        return None
    return words


@fixer("DT-D032", "safe")
def exec_form(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    f = _facts(parsed)
    instruction = _instruction(f, finding)
    words = _exec_words(instruction.args)
    if words is None:
        raise CannotFix("the command uses shell features (variables, pipes, &&, globs); not converted")
    first = parsed.line(instruction.line)
    indent = first[: len(first) - len(first.lstrip())]
    keyword = first.lstrip().split(None, 1)[0]
    new = f"{indent}{keyword} {json.dumps(words, ensure_ascii=False)}"
    text = _replace_lines(parsed.text, instruction.line, instruction.end_line, [new])
    # An exec-form ENTRYPOINT receives CMD as arguments; a CMD after an ENTRYPOINT changes what it passes.
    chain = f.final_chain
    other = "CMD" if instruction.keyword == "ENTRYPOINT" else "ENTRYPOINT"
    interacts = any(i.keyword == other and i.stage in chain for i in f.dockerfile.instructions)
    why = "In exec form the program is PID 1 and receives SIGTERM, so it can shut down cleanly."
    if interacts:
        why += f" Review: with an {other} in the image, exec form changes what ENTRYPOINT receives."
    return TextFix(text, ((instruction.line, instruction.end_line),),
                   f"{instruction.keyword} in exec form", why, safety=Safety.REVIEW if interacts else None)


# --------------------------------------------------------------------------- final-stage additions


def _family(f: DockerfileFacts) -> str:
    """alpine, debian, rhel, node or other, from the base image the final stage is built on."""
    reference = f.final_base().split("@", 1)[0]
    name, _, tag = reference.rsplit("/", 1)[-1].partition(":")
    name, tag = name.lower(), tag.lower()
    if name in _ALPINE or "alpine" in tag:
        return "alpine"
    if name == "node":
        return "node"
    if name in _DEBIAN or _DEBIAN_TAGS.search(tag):
        return "debian"
    if name in _RHEL and "minimal" not in tag:
        return "rhel"
    return "other"


def _add_to_final_stage(parsed: ParsedFile, f: DockerfileFacts, tail: frozenset[str], lines: list[str],
                        title: str, why: str) -> TextFix:
    """Insert `lines` at the end of the final stage, before its trailing `tail` instructions."""
    stage = f.dockerfile.stages[-1]
    body = [i for i in stage.instructions if i.keyword not in tail or i.keyword == "FROM"]
    after = body[-1].end_line if body else stage.line
    return TextFix(insert_lines(parsed.text, after, lines), ((after, after + 1),), title, why)


def _known_user(f: DockerfileFacts) -> str | None:
    """A non-root user the final image already creates or switched to earlier."""
    chain = set(f.final_chain)
    for instruction in reversed(f.dockerfile.instructions):
        if instruction.stage not in chain:
            continue
        if instruction.keyword == "USER":
            user = instruction.args.strip().split(":", 1)[0]
            if user and user not in ("root", "0") and "$" not in user:
                return user
        if instruction.keyword == "RUN":
            for match in _USER_ADD.finditer(instruction.shell_text):
                words = [w for w in match.group(1).split() if not w.startswith("-")]
                if words and re.fullmatch(r"[a-z_][a-z0-9_-]*", words[-1]):
                    return words[-1]
    return None


def _user_lines(f: DockerfileFacts) -> tuple[list[str], str]:
    known = _known_user(f)
    if known:
        return [f"USER {known}"], f"switch to the existing user {known}"
    family = _family(f)
    if family == "node":
        return ["USER node"], "switch to the image's own `node` user"
    if family == "alpine":
        return ["RUN adduser -D -u 10001 app", "USER app"], "create user app (adduser -D) and switch to it"
    if family in ("debian", "rhel"):
        return ["RUN useradd --create-home --uid 10001 app", "USER app"], "create user app (useradd)"
    return ["USER 10001:10001"], "switch to the numeric user 10001 (no passwd entry needed)"


def _non_root(finding: Finding, parsed: ParsedFile) -> TextFix:
    f = _facts(parsed)
    lines, what = _user_lines(f)
    why = ("The container no longer runs as root, so a compromise does not start with every privilege. "
           "Review: files the program writes at run time must belong to that user (COPY --chown, or a chown "
           "in a RUN).")
    return _add_to_final_stage(parsed, f, _TAIL, lines, f"non-root USER: {what}", why)


@fixer("DT-D003", "review")
def final_user_not_root(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _non_root(finding, parsed)


@fixer("DT-D004", "review")
def final_user_missing(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _non_root(finding, parsed)


def _probe(family: str, base: str, port: str) -> str:
    """A health probe with a tool the base image family ships."""
    url = f"http://127.0.0.1:{port}/"
    if base.startswith("python"):
        return f"python -c \"import urllib.request; urllib.request.urlopen('{url}', timeout=4)\""
    if family == "alpine":
        return f"wget -q -O /dev/null {url} || exit 1"
    if family == "node":
        return ("node -e \"require('http').get('" + url + "', r => process.exit(r.statusCode < 400 ? 0 : 1))"
                ".on('error', () => process.exit(1))\"")
    return f"curl -fsS -o /dev/null {url} || exit 1"


@fixer("DT-D036", "review")
def healthcheck(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    f = _facts(parsed)
    ports = [i.args.split()[0].split("/")[0] for i in f.dockerfile.instructions
             if i.keyword == "EXPOSE" and i.stage in f.final_chain and i.args.split()]
    port = next((p for p in ports if p.isdigit()), "8080")
    base = f.final_base().rsplit("/", 1)[-1].lower()
    probe = _probe(_family(f), base, port)
    escape = f.dockerfile.escape
    lines = ["# TODO: point the probe at the service's health endpoint",
             f"HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 {escape}",
             f"    CMD {probe}"]
    why = ("Docker and Compose can then tell a hung service from a healthy one. Review: the probe is a "
           "guess (port from EXPOSE, path /); point it at the real health endpoint, with a tool the image "
           "has.")
    return _add_to_final_stage(parsed, f, frozenset({"CMD", "ENTRYPOINT"}), lines,
                               f"HEALTHCHECK skeleton probing port {port}", why)


@fixer("DT-D037", "review")
def dockerignore(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    target = dict(finding.extra).get("create")
    if not target:
        raise CannotFix("the finding does not say where the .dockerignore goes")
    header = "# Keep secrets and VCS data out of the build context (added by devops-tui).\n"
    return TextFix(parsed.text, (), f"create {target}",
                   "The build context no longer sends .git, local .env files and keys to the builder, so "
                   "`COPY . .` cannot bake them into the image. Review: add build output and anything "
                   "else the image does not need.", side_files=(SideFile(target, _DOCKERIGNORE, header),))
