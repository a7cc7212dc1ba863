"""A Dockerfile parser that keeps every instruction's exact line span.

Handles what BuildKit accepts today: parser directives (`# escape=`, `# syntax=`), line continuations
with the active escape character, comments inside continued lines, heredocs (`RUN <<EOF`, several per
instruction, `<<-` tab stripping), flags such as `--mount=` and `--from=`, JSON (exec) form, `ARG`
before the first `FROM`, and multi-stage builds. It never raises on odd input: an unknown instruction
is kept as written and a broken line becomes a `ParseProblem` beside the instructions that did parse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from core.models import ParseProblem

KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FLAG = re.compile(r"--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?")


@dataclass(frozen=True, slots=True)
class Heredoc:
    """One heredoc body attached to an instruction."""

    name: str
    body: str
    line: int  # first body line (1-based)


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction; `args` is the text after the keyword and flags, continuations joined."""

    keyword: str
    args: str
    flags: tuple[tuple[str, str], ...]
    line: int
    end_line: int
    original: str
    heredocs: tuple[Heredoc, ...] = ()
    stage: int = -1  # index of the stage it belongs to; -1 before the first FROM

    @property
    def is_json(self) -> bool:
        """Exec (JSON array) form, as CMD/ENTRYPOINT/RUN/SHELL accept."""
        return self.json_args() is not None

    def json_args(self) -> list[str] | None:
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None

    def flag(self, name: str) -> str | None:
        for key, value in self.flags:
            if key == name:
                return value
        return None

    @property
    def shell_text(self) -> str:
        """The shell a RUN executes: its arguments plus any heredoc bodies."""
        parts = [self.args]
        parts.extend(h.body for h in self.heredocs)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Stage:
    """A build stage: its FROM, base image, optional name and instruction indexes."""

    index: int
    base: str
    name: str | None
    platform: str | None
    line: int
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True, slots=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    directives: dict[str, str] = field(default_factory=dict)
    escape: str = "\\"
    problems: tuple[ParseProblem, ...] = ()

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    @property
    def global_args(self) -> tuple[Instruction, ...]:
        return tuple(i for i in self.instructions if i.stage == -1 and i.keyword == "ARG")

    def stage_names(self) -> set[str]:
        return {s.name.lower() for s in self.stages if s.name}


def _split_flags(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    flags: list[tuple[str, str]] = []
    rest = text.lstrip()
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if not match:
            break
        flags.append((match.group(1).lower(), match.group(2) or ""))
        rest = rest[match.end():].lstrip()
    return tuple(flags), rest


def parse_dockerfile(text: str) -> Dockerfile:
    """Parse Dockerfile text; never raises."""
    lines = text.splitlines()
    directives: dict[str, str] = {}
    escape = "\\"
    index = 0
    # Parser directives: only at the very top, before any blank line, comment or instruction.
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        if not match or match.group(1).lower() in directives:
            break
        directives[match.group(1).lower()] = match.group(2)
        index += 1
    if directives.get("escape") in ("`", "\\"):
        escape = directives["escape"]

    instructions: list[Instruction] = []
    problems: list[ParseProblem] = []
    stages: list[tuple[int, str, str | None, str | None, int]] = []
    stage_index = -1
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        pieces: list[str] = []
        original: list[str] = []
        while True:
            line = lines[index]
            original.append(line)
            body = line.rstrip()
            if body.endswith(escape):
                pieces.append(body[:-1])
                index += 1
                # Skip comment and empty lines inside a continuation, as BuildKit does.
                while index < len(lines) and (
                    not lines[index].strip() or lines[index].lstrip().startswith("#")
                ):
                    original.append(lines[index])
                    index += 1
                if index >= len(lines):
                    break
                continue
            pieces.append(body)
            index += 1
            break
        logical = " ".join(p.strip() for p in pieces).strip()
        end = index  # exclusive 0-based == inclusive 1-based end line
        keyword, _, rest = logical.partition(" ")
        if not keyword.replace("_", "").isalpha():
            problems.append(ParseProblem(f"cannot parse line: {raw.strip()[:60]!r}", start + 1, 1))
            continue
        keyword = keyword.upper()
        flags, args = _split_flags(rest)
        heredocs: list[Heredoc] = []
        if keyword in ("RUN", "COPY", "ADD") or (keyword == "ONBUILD"):
            for match in _HEREDOC.finditer(args):
                strip_tabs, name = match.group(1) == "-", match.group(3)
                body_lines: list[str] = []
                body_start = index + 1
                while index < len(lines) and lines[index].strip() != name:
                    body_line = lines[index]
                    body_lines.append(body_line.lstrip("\t") if strip_tabs else body_line)
                    original.append(body_line)
                    index += 1
                if index >= len(lines):
                    problems.append(ParseProblem(f"heredoc <<{name} is never closed", start + 1, 1))
                else:
                    original.append(lines[index])
                    index += 1
                heredocs.append(Heredoc(name, "\n".join(body_lines), body_start))
            end = index
        if keyword not in KNOWN_INSTRUCTIONS:
            problems.append(ParseProblem(f"unknown instruction {keyword}", start + 1, 1))
        if keyword == "FROM":
            stage_index += 1
            platform = dict(flags).get("platform")
            parts = args.split()
            base = parts[0] if parts else ""
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            if not base:
                problems.append(ParseProblem("FROM without an image", start + 1, 1))
            stages.append((stage_index, base, name, platform, start + 1))
        instructions.append(
            Instruction(
                keyword=keyword,
                args=args,
                flags=flags,
                line=start + 1,
                end_line=end,
                original="\n".join(original),
                heredocs=tuple(heredocs),
                stage=stage_index,
            )
        )
    built = tuple(
        Stage(i, base, name, platform, line, tuple(x for x in instructions if x.stage == i))
        for i, base, name, platform, line in stages
    )
    if instructions and not built:
        problems.append(ParseProblem("no FROM instruction", instructions[0].line, 1))
    return Dockerfile(tuple(instructions), built, directives, escape, tuple(problems))
