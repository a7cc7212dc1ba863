"""Statement runs copied across shell scripts → one function in a shared library the scripts source.

Contract: `shell_run_library(cluster, index)` returns a checked `Proposal` or raises `NotProposable`
with the reason. The function's body is the first copy's statements; each value that varies between
the copies (`cluster.parameters`) becomes a positional argument, named by a `local name="$1"` line and
used quoted (`"${name}"`, or `NAME="${name}"` for an assignment). When the copies' words differ only in a
plain literal inside (`"build/api"` vs `"build/web"`) just that part is the argument, so values that
vary together (`api` in five places) are one argument. Each script gets one
`. "$(dirname "$0")/…/lib/<slug>.sh"` line after its shebang, comments and `set` lines (unless every
script already sources one library before the run: that library receives the function), and the copied
lines become one call with its arguments quoted. Leading `set …` and sourcing statements of the run stay
in each script (they are its header). The call takes the run's first place, or its last when statements
call a function the script defines between them (moving statements later past definitions is harmless).

Decided, and why:
- Variables the run assigns stay global: a POSIX function runs in the calling shell, so `TAG=…` set
  inside it is seen afterwards exactly as before. Only `local` is refused (it would mean something else).
- Refused: `exit` (it would end whatever calls the function, a subshell or `f || …` included, which a
  person should decide), `return`, `shift`, `break`, `continue`, `set --`; `$@`, `$*`, `$#`, `$1`…
  (inside a function they are the function's own) and `$0` (zsh rebinds it there); here-documents;
  runs that cut through an `if`/loop/`case`/group; a varying value that is not a whole word (an unquoted
  expansion, a glob, `$(…)`, mixed quoting, or a variable the run itself assigns before using it, since
  arguments are expanded before the function runs); copies whose redirections differ (the scan compares
  words, not redirection targets); a run calling a function the script defines twice around it.
- Checked before it is offered: substituting each copy's arguments back into the function body gives
  that copy's statements token by token (`canonical.shell_tokens`) with equal redirections, and each
  rewritten script, without the call and the source line, is token for token the original without
  the copied statements.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, common_parent, dedup_proposal
from core.dupes.canonical import shell_tokens
from core.dupes.model import DuplicateCluster, Occurrence
from core.dupes.units import Unit, shell_units
from core.patching import Proposal
from core.rules.shell_words import Command, Word, split_commands

_REFUSED_COMMANDS = {
    "exit": "call `exit`; inside a function it ends whatever calls the function (a subshell, or a caller "
            "writing `f || …`, differently from the script itself), so a person should decide",
    "return": "use `return`, which would leave the new function instead of the script",
    "local": "use `local`, which only means something inside a function",
    "shift": "use `shift`, which would shift the function's arguments instead of the script's",
    "break": "use `break`, which cannot leave a loop around the call from inside a function",
    "continue": "use `continue`, which cannot reach a loop around the call from inside a function",
}
_POSITIONAL = re.compile(r"\$(?:[0-9@*#]|\{(?:[0-9]+|[@*#])[}:#%/=+?-])")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9_./:@%+,=-]+$")
_NAME_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPENERS = {"if": "fi", "case": "esac", "do": "done", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_SOURCE_LINE = re.compile(r'^\s*(?:\.|source)\s+"\$\(dirname "\$0"\)/([^"]+)"\s*$')
_HEADER = re.compile(r"^\s*(?:#.*|set\s.*)?$")


@dataclass(frozen=True, slots=True)
class _Copy:
    """One occurrence, re-cut: its statement units, their text and their commands."""

    occ: Occurrence
    units: list[Unit]
    texts: list[str]
    commands: list[list[Command]]
    functions: list[tuple[str, int]]  # (name, first line) of every function the script defines


@dataclass(frozen=True, slots=True)
class _Argument:
    """One function argument: its variable name and, per copy, the quoted source text and the value."""

    var: str
    sources: list[str]
    values: list[str]


def _copies(cluster: DuplicateCluster, index: InfraIndex) -> list[_Copy]:
    out: list[_Copy] = []
    for occ in cluster.occurrences:
        parsed = index.parsed[occ.path]
        every = shell_units(parsed)
        units = [u for u in every
                 if u.category == "shell-statement" and occ.index <= u.index < occ.index + occ.length]
        functions = [(u.label.split(" ", 1)[1], u.start_line)
                     for u in every if u.category == "shell-function"]
        if len(units) != occ.length or units[0].start_line != occ.start_line:
            raise NotProposable(f"{occ.path} changed since the scan; rescan")
        lines = parsed.lines
        texts = ["\n".join(lines[u.start_line - 1 : u.end_line]) for u in units]
        out.append(_Copy(occ, units, texts, [split_commands(t) for t in texts], functions))
    return out


def _command_word(command: Command) -> str:
    argv = command.argv
    return argv[0].text if argv else ""


def _is_header(commands: list[Command]) -> bool:
    if len(commands) != 1:
        return False
    name = _command_word(commands[0])
    return name in (".", "source") or (name == "set" and all(w.text != "--" for w in commands[0].words))


def _header_statements(copies: list[_Copy], cluster: DuplicateCluster) -> int:
    """How many leading statements are the scripts' own header (`set -e…`, sourcing a library), equal in
    every copy: they stay in each script, which keeps its options before anything runs."""
    varying = {_parse_where(p.where)[0] for p in cluster.parameters}
    skip = 0
    while skip < len(copies[0].units) - 1 and skip not in varying:
        if not all(_is_header(copy.commands[skip]) for copy in copies):
            break
        skip += 1
    if len(copies[0].units) - skip < 2:
        raise NotProposable("only the scripts' header lines (`set`, sourcing) are shared; nothing to move")
    return skip


def _check_statements(copy: _Copy) -> None:
    """Refuse what a function would change (see the module docstring)."""
    depth: dict[str, int] = dict.fromkeys(_OPENERS, 0)
    parens = 0
    has_case = False
    where = copy.occ.path
    for commands in copy.commands:
        for command in commands:
            first = command.words[0].text if command.words else ""
            name = _command_word(command)
            if name in _REFUSED_COMMANDS:
                raise NotProposable(f"the copied statements in {where} {_REFUSED_COMMANDS[name]}")
            if name == "set" and any(w.text == "--" for w in command.argv[1:]):
                raise NotProposable(f"the copied statements in {where} use `set --`, which would set the "
                                    "function's arguments instead of the script's")
            for word in (*command.words, *(w for _, w in command.redirects)):
                if _POSITIONAL.search(word.text):
                    raise NotProposable(f"the copied statements in {where} read {word.text!r}: $0, $@, $*, "
                                        "$# and $1… mean the function's own arguments inside a function")
            if any(op in ("<<", "<<-") for op, _ in command.redirects):
                raise NotProposable(f"the copied statements in {where} hold a here-document, whose body "
                                    "the scan does not compare")
            for word in command.words[:1] + command.words[1:2] * (first in ("then", "else", "do")):
                text = word.text
                if text in _OPENERS:
                    depth[text] += 1
                    has_case |= text == "case"
                elif text in _CLOSERS:
                    depth[_CLOSERS[text]] -= 1
            if command.op == "(":
                parens += 1
            elif command.op == ")":
                parens -= 1
            if any(v < 0 for v in depth.values()) or (parens < 0 and not has_case):
                raise NotProposable(f"the copied statements in {where} close a block they do not open")
    if any(depth.values()) or (parens and not has_case):
        raise NotProposable(f"the copied statements in {where} open a block they do not close")


def _token_words(commands: list[Command]) -> list[Word | None]:
    """Parallel to `shell_tokens`: each token's Word, None for an operator."""
    out: list[Word | None] = []
    for command in commands:
        out.extend(command.words)
        if command.op:
            out.append(None)
    return out


def _assigned(copy: _Copy) -> set[str]:
    names: set[str] = set()
    for commands in copy.commands:
        for command in commands:
            names.update(w.text.split("=", 1)[0].split("[", 1)[0].rstrip("+") for w in command.assignments)
            argv = [w.text for w in command.argv]
            if argv and argv[0] in ("read", "export", "unset", "for", "readonly", "getopts"):
                names.update(t.split("=", 1)[0] for t in argv[1:] if _NAME_WORD.match(t.split("=", 1)[0]))
    return names


def _whole_source(src: str, assigned: set[str], where: str) -> str:
    """The word as a quoted call argument, or refuse when it is not a whole word."""
    problem = ""
    if len(src) >= 2 and src[0] == src[-1] == "'" and "'" not in src[1:-1]:
        return src
    if len(src) >= 2 and src[0] == src[-1] == '"' and '"' not in src[1:-1].replace('\\"', ""):
        if "$(" in src or "`" in src:
            problem = "runs a command substitution"
        elif set(_VARIABLE.findall(src)) & assigned:
            problem = "reads a variable the copied statements assign, and arguments are expanded first"
        else:
            return src
    elif _SAFE_LITERAL.match(src):
        return f'"{src}"'
    why = f": it {problem}" if problem else " (an unquoted expansion, a glob or mixed quoting)"
    raise NotProposable(f"the varying value {src} in {where} is not a whole word{why}; quote it first")


def _inner(src: str, value: str) -> str | None:
    """The text between the quotes of a double-quoted or plain word, when it reads as its value."""
    if len(src) >= 2 and src[0] == src[-1] == "'" and not re.search(r'[$`\\"]', src):
        inner = src[1:-1]  # nothing in it that double quotes would read differently
    elif len(src) >= 2 and src[0] == src[-1] == '"':
        inner = src[1:-1]
    elif _SAFE_LITERAL.match(src):
        inner = src
    else:
        return None
    return inner if inner == value else None


def _shared_start(values: list[str]) -> int:
    first = values[0]
    for n, char in enumerate(first):
        if any(len(v) <= n or v[n] != char for v in values[1:]):
            return n
    return len(first)


def _split_middle(values: list[str]) -> tuple[int, int] | None:
    """Lengths of the prefix and suffix every value shares, when what differs is a plain literal."""
    prefix = _shared_start(values)
    suffix = _shared_start([v[::-1] for v in values])
    suffix = min(suffix, min(len(v) for v in values) - prefix)
    first = values[0]
    while prefix and (first[prefix - 1].isalnum() or first[prefix - 1] == "_"):
        prefix -= 1  # whole words differ: `alpha`/`beta`, not `alph`/`bet`
    while suffix and (first[len(first) - suffix].isalnum() or first[len(first) - suffix] == "_"):
        suffix -= 1
    if re.search(r"\$\{?[A-Za-z0-9_]*$|\\$", values[0][:prefix]):
        return None  # the difference starts inside a variable name
    middles = [v[prefix : len(v) - suffix] for v in values]
    if not all(m == "" or _SAFE_LITERAL.match(m) for m in middles):
        return None
    return prefix, suffix


def _variable_name(base: str, taken: set[str]) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", base.lower()).strip("_") or "value"
    if name[0].isdigit():
        name = f"arg_{name}"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _parse_where(where: str) -> tuple[int, int]:
    match = re.fullmatch(r"\[(\d+)\]\.sh#(\d+)", where)
    if match is None:
        raise NotProposable(f"unexpected parameter path {where}")
    return int(match.group(1)), int(match.group(2))


def _arguments(cluster: DuplicateCluster, copies: list[_Copy],
               skip: int) -> tuple[list[_Argument], dict[tuple[int, int], str]]:
    """The function's arguments, and the body's replacement text per (statement, token) position.

    When the copies' words differ only in a plain literal inside (`build/api` vs `build/web`), only that
    part becomes the argument and the rest stays in the body, so `$OUT` in `"building api into $OUT"`
    is still expanded inside the function; otherwise the whole word is the argument.
    """
    used = {v for c in copies for t in c.texts for v in _VARIABLE.findall(t)}
    used |= {n for c in copies for n in _assigned(c)}
    taken = set(used)
    assigned = [_assigned(c) for c in copies]
    args: dict[tuple[str, ...], _Argument] = {}
    hints: dict[tuple[str, ...], list[str]] = {}
    pending: list[tuple[tuple[int, int], tuple[str, ...], str, str, str]] = []
    for param in cluster.parameters:
        statement, token = _parse_where(param.where)
        statement -= skip
        heads, sources, values = [], [], []
        for copy in copies:
            words = _token_words(copy.commands[statement])
            word = words[token] if token < len(words) else None
            if word is None:
                raise NotProposable(f"the varying value at {param.where} in {copy.occ.path} is an operator")
            src = copy.texts[statement][word.start : word.end]
            command = next(c for c in copy.commands[statement] if any(w is word for w in c.words))
            head = ""
            if any(w is word for w in command.assignments):
                head = word.text.split("=", 1)[0] + "="
                src = src[len(head):] if src.startswith(head) else src
            heads.append(head)
            sources.append(src)
            values.append(word.text[len(head):])
        inners = [_inner(s, v) for s, v in zip(sources, values, strict=True)]
        split = _split_middle(values) if all(i is not None for i in inners) else None
        if split is not None:
            prefix, suffix = split
            middles = tuple(v[prefix : len(v) - suffix] for v in values)
            key, arg_sources = middles, [f'"{m}"' for m in middles]
            template = (values[0][:prefix], values[0][len(values[0]) - suffix :])
        else:
            key = tuple(values)
            arg_sources = [_whole_source(s, assigned[i], copies[i].occ.path) if s else '""'
                           for i, s in enumerate(sources)]
            template = ("", "")
        generic = re.search(r"-arg(-\d+)?$", param.name) or any(param.name in v for v in param.values)
        whole = template == ("", "")
        hint = heads[0][:-1] if heads[0] and whole else "" if generic else param.name
        hints.setdefault(key, []).append(hint)
        if key not in args:
            args[key] = _Argument("", arg_sources, list(key))
        pending.append(((statement, token), key, heads[0], template[0], template[1]))
    final: dict[tuple[str, ...], _Argument] = {}
    for key, arg in args.items():
        found = [h for h in hints[key] if h]
        final[key] = _Argument(_variable_name(found[0] if found else "value", taken), arg.sources, arg.values)
    places = {pos: f'{head}"{before}${{{final[key].var}}}{after}"'
              for pos, key, head, before, after in pending}
    return list(final.values()), places


def _function_name(copies: list[_Copy], index: InfraIndex, library: str | None) -> str:
    """Named for the first commands it runs, and free in every script (and the library it joins)."""
    names = [n for commands in copies[0].commands for c in commands
             if (n := _command_word(c).rsplit("/", 1)[-1]) and _NAME_WORD.match(n.replace("-", "_"))]
    base = re.sub(r"[^a-z0-9_]+", "_", "_".join(dict.fromkeys(names[:3])).lower()).strip("_") or "shared"
    base = base if not base[0].isdigit() else f"run_{base}"
    paths = {c.occ.path for c in copies} | ({library} if library else set())
    words = {w for p in paths for t in index.parsed[p].lines for w in re.findall(r"[\w-]+", t)}
    name, number = base, 2
    while name in words:
        name, number = f"{base}_{number}", number + 1
    return name


def _body(copy: _Copy, places: dict[tuple[int, int], str]) -> list[str]:
    """The first copy's statements with the varying words replaced by their quoted variables."""
    out: list[str] = []
    indent = len(copy.texts[0]) - len(copy.texts[0].lstrip(" \t"))
    for s, text in enumerate(copy.texts):
        words = _token_words(copy.commands[s])
        spans = sorted(((w.start, w.end, new) for (st, t), new in places.items()
                        if st == s and (w := words[t]) is not None), reverse=True)
        for start, end, new in spans:
            text = text[:start] + new + text[end:]
        for line in text.split("\n"):
            stripped = line[indent:] if line[:indent].strip() == "" else line.lstrip()
            out.append(f"  {stripped}" if stripped else "")
    return out


def _sourced_library(copies: list[_Copy], index: InfraIndex) -> str | None:
    """The library every script already sources before the run, when there is exactly one."""
    sourced: set[str] = set()
    for copy in copies:
        found = ""
        for line in index.parsed[copy.occ.path].lines[: copy.occ.start_line - 1]:
            match = _SOURCE_LINE.match(line)
            if match:
                found = os.path.normpath(os.path.join(os.path.dirname(copy.occ.path), match.group(1)))
        sourced.add(PurePosixPath(Path(found)).as_posix() if found else "")
    existing = next(iter(sourced))
    return existing if len(sourced) == 1 and existing in index.parsed else None


def _new_library(copies: list[_Copy], index: InfraIndex, slug_name: str) -> str:
    """`<the scripts' common folder>/lib/<slug>.sh`, numbered when taken."""
    folders = {str(PurePosixPath(c.occ.path).parent) for c in copies}
    common = next(iter(folders)) if len(folders) == 1 else common_parent(folders)
    base = (PurePosixPath(common) / "lib" / slug_name).as_posix()
    path, n = f"{base}.sh", 2
    while path in index.files:
        path, n = f"{base}-{n}.sh", n + 1
    return path


def _source_line(script: str, lib: str) -> str:
    rel = os.path.relpath(lib, os.path.dirname(script) or ".")
    return f'. "$(dirname "$0")/{PurePosixPath(Path(rel)).as_posix()}"'


def _header_end(lines: list[str], limit: int) -> int:
    """Index after the shebang, comments and `set` lines at the top (never past `limit`)."""
    end = 0
    for number, line in enumerate(lines[:limit]):
        if not _HEADER.match(line):
            break
        if line.strip():
            end = number + 1
    return end


def _rewrite(copies: list[_Copy], index: InfraIndex, fname: str, args: list[_Argument],
             library: tuple[str, bool], at_end: list[bool]) -> dict[str, list[str]]:
    """Each copy's statements replaced by one call (bottom-up, so line numbers stay valid), and the
    source line added once per script after its header, unless the script sources the library already."""
    lib, reuse = library
    new_texts: dict[str, list[str]] = {}
    firsts: dict[str, int] = {}
    order = sorted(range(len(copies)), key=lambda i: -copies[i].occ.start_line)
    for i in order:
        copy = copies[i]
        path = copy.occ.path
        lines = new_texts.setdefault(path, list(index.parsed[path].lines))
        place = copy.units[-1] if at_end[i] else copy.units[0]
        text = lines[place.start_line - 1]
        call = text[: len(text) - len(text.lstrip(" \t"))] + " ".join([fname, *(a.sources[i] for a in args)])
        for unit in reversed(copy.units):
            if unit is place:
                lines[unit.start_line - 1 : unit.end_line] = [call]
            else:
                del lines[unit.start_line - 1 : unit.end_line]
        firsts[path] = min(firsts.get(path, copy.occ.start_line), copy.occ.start_line)
    if not reuse:
        for path, lines in new_texts.items():
            at = _header_end(lines, firsts[path] - 1)
            lines.insert(at, _source_line(path, lib))
    return new_texts


def _call_at_end(copy: _Copy) -> bool:
    """Whether the call must take the run's last place: functions defined between its statements are
    called by them. Moving statements later past mere definitions keeps their meaning, unless the script
    redefines one of those functions (then the run would call the other definition)."""
    called = {_command_word(c) for commands in copy.commands for c in commands}
    between = {n for n, line in copy.functions if copy.occ.start_line < line < copy.occ.end_line} & called
    before = {n for n, line in copy.functions if line < copy.occ.start_line}
    if between & before:
        raise NotProposable(f"the copied statements in {copy.occ.path} call {', '.join(sorted(between))}, "
                            "which the script defines twice around them; share them by hand")
    return bool(between)


def _substitute(token: str, args: list[_Argument], copy: int) -> str:
    for arg in args:
        token = token.replace(f"${{{arg.var}}}", arg.values[copy])
    return token


def _verify(copies: list[_Copy], body: list[str], args: list[_Argument], fname: str,
            new_texts: dict[str, list[str]], index: InfraIndex) -> None:
    body_text = "\n".join(body)
    body_commands = split_commands(body_text)
    for i, copy in enumerate(copies):
        if shell_tokens(" ".join(a.sources[i] for a in args)) != [a.values[i] for a in args]:
            raise NotProposable(f"the arguments for {copy.occ.path} would not pass its values unchanged")
        expanded = [_substitute(token, args, i) for token in shell_tokens(body_text)]
        if expanded != shell_tokens("\n".join(copy.texts)):
            raise NotProposable(f"calling the function with the arguments of {copy.occ.path} does not give "
                                "back its statements token by token")
        own = [r for c in split_commands("\n".join(copy.texts)) for r in c.redirects]
        shared = [r for c in body_commands for r in c.redirects]
        if [(op, w.text) for op, w in own] != [(op, _substitute(w.text, args, i)) for op, w in shared]:
            raise NotProposable(f"the copies differ in a redirection ({copy.occ.path}), which the scan does "
                                "not compare; share them by hand")
    for path, lines in new_texts.items():
        mine = [c for c in copies if c.occ.path == path]
        calls = [n for n, line in enumerate(lines) if line.strip().startswith(fname + " ")
                 or line.strip() == fname]
        if len(calls) != len(mine):
            raise NotProposable(f"the rewritten {path} does not call {fname} where expected")
        kept = [line for n, line in enumerate(lines) if n not in calls and not _SOURCE_LINE.match(line)]
        gone = {n for c in mine for u in c.units for n in range(u.start_line - 1, u.end_line)}
        before = [line for n, line in enumerate(index.parsed[path].lines)
                  if n not in gone and not _SOURCE_LINE.match(line)]
        if shell_tokens("\n".join(kept)) != shell_tokens("\n".join(before)):
            raise NotProposable(f"the rewrite would change more of {path} than the copied statements")


def shell_run_library(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked shared-library proposal for a run of copied shell statements (see the docstring)."""
    copies = _copies(cluster, index)
    if getattr(cluster, "gaps", ()) or len({o.length for o in cluster.occurrences}) != 1:
        for copy in copies:
            _check_statements(copy)
        raise NotProposable("the copies differ by whole statements (a near-miss group); make them equal "
                            "first, then share them")
    skip = _header_statements(copies, cluster)
    copies = [_Copy(replace(c.occ, index=c.occ.index + skip, length=c.occ.length - skip,
                            start_line=c.units[skip].start_line),
                    c.units[skip:], c.texts[skip:], c.commands[skip:], c.functions) for c in copies]
    for copy in copies:
        _check_statements(copy)
    at_end = [_call_at_end(copy) for copy in copies]
    args, places = _arguments(cluster, copies, skip)
    existing = _sourced_library(copies, index)
    fname = _function_name(copies, index, existing)
    lib = existing or _new_library(copies, index, fname.replace("_", "-"))
    reuse = existing is not None
    body = _body(copies[0], places)
    function = [
        f"# {len(copies[0].units)} statements shared by {', '.join(cluster.files)}; made by devops-tui.",
        f"{fname}() {{",
        *(f'  local {a.var}="${n}"' for n, a in enumerate(args, start=1)),
        *body,
        "}",
    ]
    new_texts = _rewrite(copies, index, fname, args, (lib, reuse), at_end)
    _verify(copies, body, args, fname, new_texts, index)
    created: dict[str, str] = {}
    modified: dict[str, str | list[str]] = dict(new_texts)
    if reuse:
        current = index.parsed[lib].text.rstrip("\n")
        modified = {lib: current + "\n\n" + "\n".join(function) + "\n", **modified}
    else:
        header = "# Shared shell functions, sourced by the deploy scripts.\n\n"
        created[lib] = header + "\n".join(function) + "\n"
    body_units = copies[0].units
    kept = f" The scripts keep their own {skip} header line(s)." if skip else ""
    where = f"the library {lib} they already source" if reuse else f"the new library {lib}"
    return dedup_proposal(
        index,
        title=f"Move {len(body_units)} shell statements copied into {cluster.copies} scripts into the "
              f"function {fname} ({lib})",
        rationale=(
            f"The same {len(body_units)} statements appear in {', '.join(cluster.files)}. The function "
            f"{fname} in {where} keeps them in one place; {len(args)} argument(s) carry what differs. "
            "Variables the statements set stay global, as before, because a shell function runs in the "
            f"calling shell.{kept}"
        ),
        created=created, modified=modified,
    )
