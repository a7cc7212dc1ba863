"""A small POSIX-shell tokenizer for rules that read shell: Dockerfile RUN, GitLab `script`, GHA `run:`.

Contract: `split_commands(text)` never raises. It returns the simple commands of `text` in order, each
with its words (quotes removed, escapes resolved, `$(...)`, `${...}` and backticks kept as written)
and the offsets of every word in `text`, so a rule can point at the exact token. Commands are split
on `&&`, `||`, `;`, `|`, `|&`, `&`, newlines and subshell parentheses; the operator that ends each
command is kept (`Command.op`, `Command.op_start`), so pipelines can be found. Comments, redirections
(kept apart in `Command.redirects`) and here-document bodies inside the script are not words.

`SourceMap` turns offsets back into file positions when the text was assembled from pieces of a file
(continued Dockerfile lines, an indented YAML block scalar): add each piece with the line and column
where it starts. This is not a full shell parser: `case` patterns, arithmetic and nested `sh -c`
strings are seen as plain words, which is what lint rules need.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.models import Position

#: Characters that need no special handling inside a word.
_PLAIN = re.compile(r"[^\s'\"\\$`;&|()<>#]+")
_REDIRECT = re.compile(r"<<<|<<-|<<|&>>|&>|>>|>&|<&|>\||<>|<|>")
_DQ_ESCAPE = re.compile(r'\\([\\"$`])|\\\n')
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
#: Reserved words that may start a command without being its name.
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})
#: Commands that run their arguments as another command.
_WRAPPERS = frozenset({"sudo", "env", "nohup", "nice", "exec", "command", "time", "doas", "stdbuf"})
_WRAPPER_VALUE_FLAGS = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-U", "-r", "-t", "-D", "-R", "-T", "--user",
                       "--group"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "doas": frozenset({"-u", "-C"}),
}
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word: `text` is its value, `start`/`end` its span in the tokenized text."""

    text: str
    start: int
    end: int
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A simple command and the operator after it ("&&", "||", ";", "|", "|&", "&", "\\n", "(", ")", "")."""

    words: tuple[Word, ...]
    op: str = ""
    op_start: int = -1
    piped_from: bool = False  # its stdin is the previous command's stdout
    depth: int = 0  # subshell nesting
    redirects: tuple[tuple[str, Word], ...] = ()

    @property
    def assignments(self) -> tuple[Word, ...]:
        """Leading `NAME=value` words (environment for this command only, or plain assignments)."""
        out: list[Word] = []
        for word in self.words:
            if word.text in _KEYWORDS and not out:
                continue
            if not _ASSIGNMENT.match(word.text):
                break
            out.append(word)
        return tuple(out)

    @property
    def argv(self) -> tuple[Word, ...]:
        """The command's words without leading reserved words and assignments."""
        index = 0
        words = self.words
        while index < len(words) and (words[index].text in _KEYWORDS or _ASSIGNMENT.match(words[index].text)):
            index += 1
        return words[index:]

    @property
    def name(self) -> str:
        """The program's base name ("apt-get" for "/usr/bin/apt-get"), '' for a bare assignment."""
        argv = self.argv
        return argv[0].text.rsplit("/", 1)[-1] if argv else ""

    @property
    def pipes_into_next(self) -> bool:
        return self.op in ("|", "|&")


def unwrap(argv: Sequence[Word]) -> tuple[Word, ...]:
    """Drop wrappers such as `sudo -u x`, `env A=1`, `nohup`, so `sudo apt-get install` is apt-get's."""
    words = tuple(argv)
    while words and words[0].text.rsplit("/", 1)[-1] in _WRAPPERS:
        wrapper = words[0].text.rsplit("/", 1)[-1]
        value_flags = _WRAPPER_VALUE_FLAGS.get(wrapper, frozenset())
        index = 1
        while index < len(words):
            text = words[index].text
            if text == "--":
                index += 1
                break
            if text in value_flags:
                index += 2
            elif text.startswith("-") or (wrapper == "env" and _ASSIGNMENT.match(text)):
                index += 1
            else:
                break
        words = words[index:]
    return words


def program(words: Sequence[Word]) -> str:
    """Base name of the first word, without a Windows `.exe` suffix."""
    if not words:
        return ""
    name = words[0].text.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name[:-4] if name.lower().endswith(".exe") else name


def has_option(words: Iterable[Word], short: str = "", long: Iterable[str] = ()) -> Word | None:
    """The word that sets option `-<short>` (alone or combined, as in `-qy`) or one of the long names.

    A long name matches `--name` and `--name=value`.
    """
    longs = tuple(long)
    for word in words:
        text = word.text
        if text == "--":
            return None
        if text.startswith("--"):
            name = text.split("=", 1)[0]
            if name in longs:
                return word
        elif short and text.startswith("-") and len(text) > 1 and short in text[1:] and text[1:].isalpha():
            return word
    return None


def operands(words: Sequence[Word], value_options: frozenset[str] = frozenset()) -> list[Word]:
    """Words that are not options; options listed in `value_options` consume the next word."""
    out: list[Word] = []
    skip = False
    only_operands = False
    for word in words:
        if skip:
            skip = False
            continue
        text = word.text
        if only_operands:
            out.append(word)
        elif text == "--":
            only_operands = True
        elif text.startswith("-") and len(text) > 1:
            skip = text in value_options
        else:
            out.append(word)
    return out


def enables_pipefail(command: Command) -> bool:
    """`set -o pipefail`, `set -euxo pipefail`, `set -o errexit -o pipefail` ..."""
    argv = command.argv
    if not argv or argv[0].text != "set":
        return False
    words = [w.text for w in argv[1:]]
    for index, text in enumerate(words[:-1]):
        if text.startswith("-") and not text.startswith("--") and text.endswith("o") and \
                words[index + 1] == "pipefail":
            return True
    return False


def pipelines(commands: Sequence[Command]) -> list[list[Command]]:
    """Group commands joined by `|` into pipelines (a single command is a pipeline of one)."""
    groups: list[list[Command]] = []
    for command in commands:
        if command.piped_from and groups:
            groups[-1].append(command)
        else:
            groups.append([command])
    return groups


# --------------------------------------------------------------------------------------------------
# Tokenizer


def _skip_balanced(text: str, index: int, open_: str, close: str) -> int:
    """Index just past the `close` matching the `open_` at `index - 1`, honouring quotes."""
    depth = 1
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "'":
            end = text.find("'", index + 1)
            index = length if end < 0 else end + 1
            continue
        if char == '"':
            index = _skip_double(text, index + 1)
            continue
        if char == open_:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return length


def _skip_double(text: str, index: int) -> int:
    """Index just past the closing double quote of a string whose body starts at `index`."""
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
        elif char == '"':
            return index + 1
        elif char == "$" and text.startswith("$(", index):
            index = _skip_balanced(text, index + 2, "(", ")")
        elif char == "`":
            end = text.find("`", index + 1)
            index = length if end < 0 else end + 1
        else:
            index += 1
    return length


@dataclass(slots=True)
class _Lexer:
    text: str
    commands: list[Command] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[tuple[str, Word]] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    start: int = -1
    quoted: bool = False
    depth: int = 0
    piped_from: bool = False
    redirect_op: str | None = None
    heredocs: list[tuple[str, bool]] = field(default_factory=list)

    def end_word(self, end: int) -> None:
        if self.start < 0:
            return
        word = Word("".join(self.buf), self.start, end, self.quoted)
        if self.redirect_op is not None:
            self.redirects.append((self.redirect_op, word))
            if self.redirect_op in ("<<", "<<-"):
                delimiter = word.text
                self.heredocs.append((delimiter, self.redirect_op == "<<-"))
            self.redirect_op = None
        else:
            self.words.append(word)
        self.buf = []
        self.start = -1
        self.quoted = False

    def end_command(self, op: str, op_start: int) -> None:
        if self.words or self.redirects:
            self.commands.append(
                Command(tuple(self.words), op, op_start, self.piped_from, self.depth, tuple(self.redirects))
            )
            self.piped_from = op in ("|", "|&")
        elif op not in ("|", "|&"):
            self.piped_from = False
        self.words = []
        self.redirects = []
        self.redirect_op = None

    def begin(self, index: int) -> None:
        if self.start < 0:
            self.start = index

    def skip_heredoc_bodies(self, index: int) -> int:
        """At the start of a line after `<<EOF`: skip the here-document bodies, return the new index."""
        text = self.text
        for delimiter, strip_tabs in self.heredocs:
            while index < len(text):
                end = text.find("\n", index)
                end = len(text) if end < 0 else end
                line = text[index:end]
                index = end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self.heredocs = []
        return min(index, len(text))

    def run(self) -> list[Command]:
        text = self.text
        length = len(text)
        index = 0
        while index < length:
            char = text[index]
            plain = _PLAIN.match(text, index)
            if plain:
                self.begin(index)
                self.buf.append(plain.group())
                index = plain.end()
                continue
            if char == "\\":
                if text.startswith("\\\n", index):  # line continuation
                    index += 2
                    continue
                self.begin(index)
                self.buf.append(text[index + 1:index + 2])
                index += 2
            elif char == "'":
                self.begin(index)
                end = text.find("'", index + 1)
                end = length if end < 0 else end
                self.buf.append(text[index + 1:end])
                self.quoted = True
                index = end + 1
            elif char == '"':
                self.begin(index)
                end = _skip_double(text, index + 1)
                body = text[index + 1:end - 1] if text[end - 1:end] == '"' else text[index + 1:end]
                self.buf.append(_DQ_ESCAPE.sub(lambda m: m.group(1) or "", body))
                self.quoted = True
                index = end
            elif char == "$" or char == "`":
                self.begin(index)
                if text.startswith("$(", index):
                    end = _skip_balanced(text, index + 2, "(", ")")
                elif text.startswith("${", index):
                    end = _skip_balanced(text, index + 2, "{", "}")
                elif char == "`":
                    close = text.find("`", index + 1)
                    end = length if close < 0 else close + 1
                else:
                    end = index + 1
                self.buf.append(text[index:end])
                index = end
            elif char.isspace():
                self.end_word(index)
                if char == "\n":
                    self.end_command("\n", index)
                    index += 1
                    if self.heredocs:
                        index = self.skip_heredoc_bodies(index)
                    continue
                index += 1
            elif char == "#" and self.start < 0:
                end = text.find("\n", index)
                index = length if end < 0 else end
            elif char in "<>" and text.startswith("(", index + 1) and self.start < 0:
                end = _skip_balanced(text, index + 2, "(", ")")  # process substitution is a word
                self.begin(index)
                self.buf.append(text[index:end])
                index = end
            elif char in "<>" or (char == "&" and text.startswith(">", index + 1)):
                if self.start >= 0 and "".join(self.buf).isdigit():
                    self.buf, self.start = [], -1  # a file descriptor number, as in 2>&1
                self.end_word(index)
                match = _REDIRECT.match(text, index)
                op = match.group() if match else char
                self.redirect_op = op
                index += len(op)
            else:  # ; & | ( )
                self.end_word(index)
                for op in ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")"):
                    if text.startswith(op, index):
                        break
                self.end_command(op, index)
                if op == "(":
                    self.depth += 1
                elif op == ")":
                    self.depth = max(0, self.depth - 1)
                index += len(op)
        self.end_word(length)
        self.end_command("", -1)
        return self.commands


def split_commands(text: str) -> list[Command]:
    """The simple commands of a shell script, in order (see the module docstring)."""
    try:
        return _Lexer(text).run()
    except (IndexError, ValueError):  # pragma: no cover - the lexer is written not to raise
        return []


# --------------------------------------------------------------------------------------------------
# Offsets back to file positions


@dataclass(slots=True)
class SourceMap:
    """Text assembled from pieces of a file, with the file position of every character.

    Pieces are appended in order with `add(piece, line, column)`; text between pieces that has no
    place in the file (a joining space) is added with `add_gap`. Newlines inside a piece advance the
    line and restart at `column` (right for YAML block scalars, whose lines share one indentation).
    """

    parts: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)
    length: int = 0

    def add(self, piece: str, line: int, column: int = 1) -> None:
        for number, text in enumerate(piece.split("\n")):
            if number:
                self._gap("\n")
            self.offsets.append(self.length)
            self.lines.append(line + number)
            self.columns.append(column)
            self.parts.append(text)
            self.length += len(text)

    def add_gap(self, text: str) -> None:
        self._gap(text)

    def _gap(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of the character at `offset`; a gap maps to the end of the piece before it."""
        if not self.offsets:
            return 1, 1
        index = max(0, bisect.bisect_right(self.offsets, offset) - 1)
        return self.lines[index], self.columns[index] + offset - self.offsets[index]

    def position(self, start: int, end: int) -> Position:
        """The file span of text[start:end] (end exclusive)."""
        line, column = self.locate(start)
        end_line, end_column = self.locate(max(start, end - 1))
        return Position(line, column, end_line, end_column + 1)

    def word_position(self, word: Word) -> Position:
        return self.position(word.start, word.end)

    def tail(self, offset: int) -> SourceMap:
        """The map of text[offset:]: every later piece keeps its own line and column."""
        out = SourceMap()
        if not self.offsets:
            return out
        first = max(0, bisect.bisect_right(self.offsets, offset) - 1)
        out.offsets.append(0)
        out.lines.append(self.lines[first])
        out.columns.append(self.columns[first] + offset - self.offsets[first])
        for index in range(first + 1, len(self.offsets)):
            out.offsets.append(self.offsets[index] - offset)
            out.lines.append(self.lines[index])
            out.columns.append(self.columns[index])
        out.parts = [self.text[offset:]]
        out.length = self.length - offset
        return out
