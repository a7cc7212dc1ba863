"""What Dockerfile rules share: every instruction's text with exact positions, and the file's facts.

Contract: `facts(parsed)` analyses a parsed Dockerfile once (a `FileCache`, so 37 rules cost one
analysis) and returns `DockerfileFacts`: for each instruction, its argument text with a
`SourceMap` back to the file (continuations, comment lines inside them and the `escape` directive
handled); for each RUN, the shell commands it runs — its shell-form arguments and any heredoc body that
is a shell script, each tokenized with `core.rules.shell_words` — plus its `--mount` flags; for each
stage, the stage it is built FROM (when that is an earlier stage), so "the final image" means the
final stage and its ancestors. Base images are resolved through `ARG` defaults declared before FROM.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.dockerfile import Dockerfile, Instruction
from core.models import Position
from core.parsing import ParsedFile
from core.rules.base import FileCache
from core.rules.shell_words import SHELLS, Command, SourceMap, Word, program, split_commands, unwrap

_KEYWORD = re.compile(r"\s*\S+\s*")
_FLAG = re.compile(r"--[a-zA-Z][a-zA-Z0-9-]*(?:=\S*)?\s*")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_SHEBANG_SHELL = re.compile(r"^#!\s*\S*?(?:/|\s)(?:env\s+)?(?:ba|da|a|z|k|mk)?sh\b|^#!\s*/bin/sh\b")


@dataclass(frozen=True, slots=True)
class ArgsText:
    """An instruction's arguments (keyword and flags removed) and where each character came from."""

    text: str
    source: SourceMap

    def position(self, start: int, end: int) -> Position:
        return self.source.position(start, end)

    def word_position(self, word: Word) -> Position:
        return self.source.word_position(word)


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """One shell command of a RUN, with the text it was tokenized from (for positions)."""

    command: Command
    script: ArgsText
    index: int  # order within the RUN

    def position(self, word: Word) -> Position:
        return self.script.word_position(word)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A RUN instruction's shell commands and mounts."""

    instruction: Instruction
    commands: tuple[ShellCommand, ...]
    mounts: tuple[dict[str, str], ...]
    exec_form: bool

    def mount_targets(self, kind: str | None = None) -> list[str]:
        return [
            m.get("target", m.get("dst", m.get("destination", "")))
            for m in self.mounts
            if kind is None or m.get("type", "bind") == kind
        ]

    def has_cache_mount(self, *paths: str) -> bool:
        """A cache (or tmpfs) mount whose target is one of `paths` or below/above it."""
        for mount in self.mounts:
            if mount.get("type") not in ("cache", "tmpfs"):
                continue
            target = mount.get("target", mount.get("dst", mount.get("destination", ""))).rstrip("/")
            if target and any(p == target or p.startswith(target + "/") or target.startswith(p + "/")
                              for p in paths):
                return True
        return False


@dataclass(slots=True)
class DockerfileFacts:
    """Everything Dockerfile rules ask more than once, computed once per file."""

    parsed: ParsedFile
    dockerfile: Dockerfile
    global_args: dict[str, str]
    parents: dict[int, int]  # stage index -> index of the earlier stage it is built FROM
    final_chain: frozenset[int]  # final stage and the stages it is built from
    runs: list[RunInfo] = field(default_factory=list)
    #: every shell command of every RUN: (run, command, argv without sudo/env wrappers, program name)
    commands: list[tuple[RunInfo, ShellCommand, tuple[Word, ...], str]] = field(default_factory=list)
    programs: frozenset[str] = frozenset()  # program names run anywhere, so rules can bail out early
    memo: dict[str, object] = field(default_factory=dict)  # results several rules share
    _args: dict[int, ArgsText] = field(default_factory=dict)

    def args(self, instruction: Instruction) -> ArgsText:
        """The instruction's argument text with positions (cached)."""
        key = instruction.line
        cached = self._args.get(key)
        if cached is None:
            cached = instruction_args(instruction, self.parsed.lines, self.dockerfile.escape)
            self._args[key] = cached
        return cached

    def keyword_position(self, instruction: Instruction) -> Position:
        line = self.parsed.line(instruction.line)
        column = len(line) - len(line.lstrip()) + 1
        return Position(instruction.line, column, instruction.line, column + len(instruction.keyword))

    def stage_chain(self, index: int) -> list[int]:
        """`index` and the stages it is built from, nearest first."""
        chain = [index]
        while chain[-1] in self.parents and len(chain) <= len(self.dockerfile.stages):
            chain.append(self.parents[chain[-1]])
        return chain

    def final_base(self) -> str:
        """The base image the final image starts from (the root of its FROM chain), ARGs resolved."""
        chain = self.stage_chain(self.dockerfile.stages[-1].index)
        return self.resolve(self.dockerfile.stages[chain[-1]].base)[0]

    def resolve(self, text: str, extra: dict[str, str] | None = None) -> tuple[str, bool]:
        """Substitute `$VAR`/`${VAR}`/`${VAR:-x}` from ARG defaults; the flag says all were known."""
        known = True
        values = {**self.global_args, **(extra or {})}

        def substitute(match: re.Match[str]) -> str:
            nonlocal known
            name = match.group(1) or match.group(4)
            value = values.get(name)
            operator, word = match.group(2), match.group(3) or ""
            if operator == "-" and not value:
                return word
            if operator == "+":
                return word if value else ""
            if value is None or value == "":
                known = False
                return match.group(0)
            return value

        return _VARIABLE.sub(substitute, text), known


def instruction_args(instruction: Instruction, lines: Sequence[str], escape: str) -> ArgsText:
    """Rebuild the instruction's logical line from the file with a position for every character.

    Continued lines are joined by one space (as BuildKit does after removing the escape character);
    blank and comment lines inside a continuation are skipped. Heredoc bodies are not included.
    """
    source = SourceMap()
    index = instruction.line - 1
    first = True
    while index < len(lines):
        raw = lines[index]
        body = raw.rstrip()
        if not first:
            source.add_gap(" ")
        first = False
        continued = body.endswith(escape)
        source.add(body[:-1] if continued else body, index + 1, 1)
        index += 1
        if not continued:
            break
        while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
            index += 1
    text = source.text
    match = _KEYWORD.match(text)
    offset = match.end() if match else 0
    while True:
        flag = _FLAG.match(text, offset)
        if not flag:
            break
        offset = flag.end()
    return ArgsText(text[offset:], source.tail(offset))


def _heredoc_script(instruction: Instruction, lines: Sequence[str], number: int) -> ArgsText:
    """Heredoc body `number` with positions (tabs stripped by `<<-` accounted for)."""
    heredoc = instruction.heredocs[number]
    source = SourceMap()
    body_lines = heredoc.body.split("\n") if heredoc.body else []
    for offset, text in enumerate(body_lines):
        if offset:
            source.add_gap("\n")
        line_number = heredoc.line + offset
        raw = lines[line_number - 1] if 0 < line_number <= len(lines) else text
        column = len(raw) - len(text) + 1 if raw.endswith(text) else 1
        source.add(text, line_number, column)
    return ArgsText(source.text, source)


def _parse_mounts(instruction: Instruction) -> tuple[dict[str, str], ...]:
    mounts: list[dict[str, str]] = []
    for name, value in instruction.flags:
        if name != "mount":
            continue
        options: dict[str, str] = {}
        for part in value.split(","):
            key, _, val = part.partition("=")
            options[key.strip().lower()] = val.strip() if _ else "true"
        mounts.append(options)
    return tuple(mounts)


def _run_info(instruction: Instruction, lines: Sequence[str], args: ArgsText) -> RunInfo:
    mounts = _parse_mounts(instruction)
    if instruction.is_json:
        return RunInfo(instruction, (), mounts, True)
    commands: list[ShellCommand] = []
    head = split_commands(args.text)
    for command in head:
        commands.append(ShellCommand(command, args, len(commands)))
    heredoc_runs_script = not any(c.argv for c in head) or any(
        c.name in SHELLS and any(op.startswith("<<") for op, _ in c.redirects) for c in head
    )
    if heredoc_runs_script:
        for number, heredoc in enumerate(instruction.heredocs):
            first = heredoc.body.lstrip("\n").split("\n", 1)[0]
            if first.startswith("#!") and not _SHEBANG_SHELL.match(first):
                continue  # a python (or other) script
            script = _heredoc_script(instruction, lines, number)
            for command in split_commands(script.text):
                commands.append(ShellCommand(command, script, len(commands)))
            if head and any(c.argv for c in head):
                break  # `bash <<EOF` reads only the first heredoc as its script
    return RunInfo(instruction, tuple(commands), mounts, False)


def _build(parsed: ParsedFile) -> DockerfileFacts | None:
    dockerfile = parsed.dockerfile
    if dockerfile is None or not dockerfile.stages:
        return None
    global_args: dict[str, str] = {}
    for instruction in dockerfile.global_args:
        for part in instruction.args.split():
            name, _, value = part.partition("=")
            global_args[name] = value.strip("\"'")
    parents: dict[int, int] = {}
    names: dict[str, int] = {}
    for stage in dockerfile.stages:
        base = stage.base.lower()
        if base in names:
            parents[stage.index] = names[base]
        if stage.name:
            names[stage.name.lower()] = stage.index
    facts = DockerfileFacts(parsed, dockerfile, global_args, parents, frozenset())
    final = dockerfile.stages[-1].index
    facts.final_chain = frozenset(facts.stage_chain(final))
    lines = parsed.lines or tuple(parsed.text.splitlines())
    for instruction in dockerfile.instructions:
        if instruction.keyword == "RUN":
            run = _run_info(instruction, lines, facts.args(instruction))
            facts.runs.append(run)
            for shell_command in run.commands:
                argv = unwrap(shell_command.command.argv)
                facts.commands.append((run, shell_command, argv, program(argv)))
    facts.programs = frozenset(c[3] for c in facts.commands)
    return facts


#: The file's facts, analysed once per ParsedFile; None when it has no stage to check.
facts = FileCache(_build)
