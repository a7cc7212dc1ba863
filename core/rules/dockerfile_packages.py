"""Dockerfile rules about package managers: apt, apk, pip, npm, yum and dnf pinning and caches.

Contract: as `core.rules.dockerfile` (whose machinery these rules use): hits point at the package
manager call or the unpinned packages; cache rules look at the final image only. `fix_data` carries the
instruction's line span and what to insert or append.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from core.models import Severity
from core.rules.base import Hit, ScanContext
from core.rules.dockerfile import (
    REPRO,
    command_span,
    dockerfile_rule,
    fix_data_for,
    pip_argv,
    run_commands,
    stage_instructions,
)
from core.rules.dockerfile_shell import DockerfileFacts, RunInfo, ShellCommand
from core.rules.shell_words import Word, has_option, operands, program, unwrap

_APT = frozenset({"apt-get", "apt"})
_APK = frozenset({"apk"})
_NPM = frozenset({"npm"})
_SIZE = ("image-size",)


Call = tuple[RunInfo, ShellCommand, tuple[Word, ...], Word, list[Word]]


def _calls(f: DockerfileFacts, stages: frozenset[int] | None, names: frozenset[str],
           value_options: frozenset[str], subcommands: Iterable[str] | None = None) -> Iterator[Call]:
    """(run, command, argv, sub-command word, operands after it) for every call of a package manager in
    `names` whose sub-command is one of `subcommands` (any, when None)."""
    for run, shell_command, argv in run_commands(f, stages, names):
        found = operands(argv[1:], value_options)
        if found and (subcommands is None or found[0].text in subcommands):
            yield run, shell_command, argv, found[0], found[1:]

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


@dockerfile_rule(
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
        yield Hit(command_span(shell_command, argv[0], sub), f"{program(argv)} {sub.text} without -y",
                  fix_data=fix_data_for(run.instruction, insert="-y", after_line=str(where.line),
                                after_column=str(where.end_column)))


@dockerfile_rule(
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
        yield Hit(command_span(shell_command, argv[0], sub),
                  f"{program(argv)} install without --no-install-recommends",
                  fix_data=fix_data_for(run.instruction, insert="--no-install-recommends"))


def _unpinned_hit(run: RunInfo, shell_command: ShellCommand, manager: str, packages: list[Word]) -> Hit:
    names = ", ".join(w.text for w in packages[:5])
    if len(packages) > 5:
        names += f", … ({len(packages)} packages)"
    return Hit(command_span(shell_command, packages[0], packages[-1]),
               f"{manager} installs packages without a version: {names}",
               fix_data=fix_data_for(run.instruction, packages=" ".join(w.text for w in packages)))


def _is_local_or_dynamic(text: str) -> bool:
    return "$" in text or text.startswith((".", "/", "~")) or "://" in text


@dockerfile_rule(
    "DT-D021",
    "apt packages not pinned",
    Severity.LOW,
    help="""
`apt-get install curl` takes whatever version the mirror has today, so rebuilding the same commit can
change the image. Pin versions (`curl=8.5.0-2`) where reproducibility matters, and let a bot update
them; remember that Debian and Ubuntu mirrors drop old versions, so pin together with a dated base.
""",
    aliases=("hadolint:DL3008", "kics:Apt Get Install Pin Version Not Defined"),
    tags=REPRO,
)
def apt_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, argv, sub, rest in _apt_calls(f):
        if sub.text != "install":
            continue
        packages = [w for w in rest if "=" not in w.text and not w.text.endswith(".deb")
                    and not _is_local_or_dynamic(w.text)]
        if packages:
            yield _unpinned_hit(run, shell_command, program(argv), packages)


@dockerfile_rule(
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
        yield Hit(command_span(shell_command, argv[0], sub), "apt lists are not removed in the same RUN",
                  fix_data=fix_data_for(run.instruction, append="rm -rf /var/lib/apt/lists/*"))


# --------------------------------------------------------------------------------------------------
# apk

_APK_VALUE_OPTIONS = frozenset({"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch",
                                "--keys-dir", "--cache-dir", "--repositories-file"})


def _apk_adds(f: DockerfileFacts, stages: frozenset[int] | None = None) -> Iterator[Call]:
    return _calls(f, stages, _APK, _APK_VALUE_OPTIONS, ("add",))


@dockerfile_rule(
    "DT-D023",
    "apk packages not pinned",
    Severity.LOW,
    help="""
`apk add curl` installs whatever the Alpine mirror has at build time. Pin versions (`curl=8.5.0-r0`, or
`curl~8.5` to follow patch releases) so a rebuild gives the same image, and update them on purpose.
""",
    aliases=("hadolint:DL3018",),
    tags=REPRO,
)
def apk_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    for run, shell_command, _argv, _sub, rest in _apk_adds(f):
        packages = [w for w in rest if not re.search(r"[=~<>]", w.text) and not w.text.endswith(".apk")
                    and not _is_local_or_dynamic(w.text)]
        if packages:
            yield _unpinned_hit(run, shell_command, "apk add", packages)


@dockerfile_rule(
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
        yield Hit(command_span(shell_command, argv[0], sub), "apk add without --no-cache",
                  fix_data=fix_data_for(run.instruction, insert="--no-cache"))


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
    for run, shell_command, argv in run_commands(f, stages):
        pip = pip_argv(argv)
        found = operands(pip[1:], _PIP_VALUE_OPTIONS) if pip is not None else []
        if pip is not None and found and found[0].text == "install":
            yield run, shell_command, pip, found[0], found[1:]


@dockerfile_rule(
    "DT-D025",
    "pip packages not pinned",
    Severity.LOW,
    help="""
`pip install requests` resolves to the newest release at build time, so a rebuild can pull a breaking
or compromised version. Pin (`requests==2.32.3`), or install from a requirements or constraints file
with pinned versions and hashes. Bootstrapping pip, setuptools and wheel is not flagged.
""",
    aliases=("hadolint:DL3013",),
    tags=REPRO,
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
    for instruction in stage_instructions(f, chain | {-1}):
        if instruction.keyword in ("ENV", "ARG") and "PIP_NO_CACHE_DIR" in instruction.args.upper():
            return True
    for other in run.commands:
        if other.index > command.index:
            break
        if any(w.text.upper().startswith("PIP_NO_CACHE_DIR=") for w in other.command.words):
            return True
    return False


@dockerfile_rule(
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
        yield Hit(command_span(shell_command, pip[0], sub), "pip install without --no-cache-dir",
                  fix_data=fix_data_for(run.instruction, insert="--no-cache-dir"))


_NPM_VALUE_OPTIONS = frozenset({"--prefix", "--registry", "--cache", "-w", "--workspace", "--tag",
                                "--userconfig", "--omit", "--include"})
_NPM_INSTALL = ("install", "i", "add", "isntall", "in")


@dockerfile_rule(
    "DT-D027",
    "npm packages not pinned",
    Severity.LOW,
    help="""
`npm install -g typescript` installs the newest release at build time. Pin (`typescript@5.4.5`), or
install the project's dependencies from its lockfile with `npm ci`, so rebuilds are reproducible and a
hijacked release does not slip in.
""",
    aliases=("hadolint:DL3016",),
    tags=REPRO,
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
        yield Hit(command_span(shell_command, argv[0], sub),
                  f"{program(argv)} install without '{program(argv)} clean all'",
                  fix_data=fix_data_for(run.instruction, append=f"{program(argv)} clean all"))


_YUM = frozenset({"yum"})
_DNF = frozenset({"dnf", "microdnf", "tdnf"})


@dockerfile_rule(
    "DT-D028",
    "yum packages not pinned",
    Severity.LOW,
    help="""
`yum install -y httpd` takes whatever version the repositories have at build time. Pin with
`httpd-2.4.57` (name-version) so rebuilds give the same image and upgrades are deliberate.
""",
    aliases=("hadolint:DL3033",),
    tags=REPRO,
)
def yum_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_unpinned(f, _YUM)


@dockerfile_rule(
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


@dockerfile_rule(
    "DT-D030",
    "dnf packages not pinned",
    Severity.LOW,
    help="""
`dnf install -y nginx` takes whatever version the repositories have at build time. Pin with
`nginx-1.24.0` (name-version) so rebuilds give the same image and upgrades are deliberate.
""",
    aliases=("hadolint:DL3041", "kics:Missing Version Specification In dnf install"),
    tags=REPRO,
)
def dnf_unpinned(f: DockerfileFacts, ctx: ScanContext) -> Iterator[Hit]:
    yield from _rpm_unpinned(f, _DNF)


@dockerfile_rule(
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
