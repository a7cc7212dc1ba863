"""Which instruction made each layer, and which Dockerfile line that instruction came from.

Contract: the image config's `history` is walked in order; entries marked `empty_layer` made no layer
and every other entry made the next layer (a zero-size layer is still a layer, so size is never used to
guess). Instructions are shown as written in a Dockerfile (`RUN ...`, `COPY ...`), whether the classic
builder (`/bin/sh -c #(nop) COPY ...`, `|1 A=1 /bin/sh -c make`) or BuildKit (`RUN /bin/sh -c ... #
buildkit`) recorded them. Dockerfile lines are found by content: each RUN/COPY/ADD layer is compared with
the RUN/COPY/ADD instructions of the final stage (and of the stages it is built `FROM`): RUN by its
command words, COPY/ADD by destination (and sources when BuildKit recorded them). The two sequences are
aligned so that extra layers (the base image's, ONBUILD triggers) or instructions that made no layer
skip over rather than stop the mapping; a pair needs the same keyword and `MIN_SIMILARITY`.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

from core.dockerfile import Dockerfile, Instruction, Stage

_SHELL = re.compile(r"^(?:\S*/)?(?:sh|bash|ash|dash|zsh)(?: (?:-o \S+|-[a-zA-Z]+))*? -[a-zA-Z]*c ")
_ANY_SHELL = re.compile(r"(?:^| )(?:\S*/)?(?:sh|bash|ash|dash|zsh)(?: (?:-o \S+|-[a-zA-Z]+))*? -[a-zA-Z]*c ")
_BUILD_ARGS = re.compile(r"^\|(\d+) ")
_NOP = "#(nop)"
_BUILDKIT_SUFFIX = " # buildkit"
_CLASSIC_COPY = re.compile(r"(?P<kind>file|dir|multi):[0-9a-f]+ in (?P<dest>.*)$")
_GENERIC_COPY = re.compile(r"^(?P<src>\S+) in (?P<dest>.+)$")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")
LAYER_KEYWORDS = ("RUN", "COPY", "ADD")
#: Below this similarity (0..1) a layer and an instruction with the same keyword are not paired.
MIN_SIMILARITY = 0.5
_MAX_WORDS = 512  # enough to tell commands apart; bounds the work on huge inline scripts


def _drop_build_args(text: str) -> str:
    """'|2 A=1 B=2 /bin/sh -c make' -> '/bin/sh -c make': the classic builder's ARG prefix on RUN."""
    match = _BUILD_ARGS.match(text)
    if not match:
        return text
    rest = text[match.end():]
    shell = _ANY_SHELL.search(rest)
    if shell:
        return rest[shell.start():].lstrip()
    parts = rest.split(" ", int(match.group(1)))
    return parts[-1] if len(parts) > int(match.group(1)) else ""


def instruction_of(created_by: str) -> str:
    """'/bin/sh -c #(nop)  COPY file:ab in /x' -> 'COPY file:ab in /x'; '/bin/sh -c make' -> 'RUN make'."""
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].strip()
        if text.startswith("RUN "):
            return "RUN " + _SHELL.sub("", _drop_build_args(text[4:].strip()), count=1).strip()
        return text
    with_args = _BUILD_ARGS.match(text) is not None
    text = _drop_build_args(text)
    shell = _SHELL.match(text)
    if shell:
        rest = text[shell.end():].strip()
        if rest.startswith(_NOP):
            return rest[len(_NOP):].strip()
        return "RUN " + rest
    # Only RUN carries build args; without a shell it was the exec form.
    return "RUN " + text if with_args else text


def layer_history(config: dict[str, Any], layer_count: int) -> tuple[list[str], str | None]:
    """`created_by` of each layer, plus a note when history and layers disagree in number."""
    history = config.get("history")
    if not isinstance(history, list):
        return [""] * layer_count, "the image has no build history; instructions are unknown"
    made = [
        str(h.get("created_by", "")) for h in history
        if isinstance(h, dict) and not h.get("empty_layer", False)
    ]
    if len(made) != layer_count:
        note = f"history lists {len(made)} layer-making steps for {layer_count} layers; instructions unknown"
        return [""] * layer_count, note
    return made, None


@dataclass(frozen=True, slots=True)
class Step:
    """A RUN/COPY/ADD reduced to what can be compared between a layer's history and a Dockerfile."""

    keyword: str
    words: tuple[str, ...] = ()  # RUN: the command's words
    shingles: frozenset[str] = frozenset()  # RUN: words and word pairs, for `_dice`
    sources: tuple[str, ...] = ()  # COPY/ADD as written; empty when the builder recorded only a hash
    dests: frozenset[str] = frozenset()  # COPY/ADD: destination, as written and resolved
    hashed_kind: str = ""  # classic builder: file, dir or multi


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.replace("\\\n", " ").split()[:_MAX_WORDS])


def _run_step(text: str) -> Step:
    words = _words(text)
    # Strings, not tuples: a str caches its hash, so intersecting sets never rehashes.
    shingles = frozenset([*words, *(f"{a}\0{b}" for a, b in pairwise(words))])
    return Step("RUN", words=words, shingles=shingles)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared words and word pairs: order-aware enough, linear, and a changed token costs little."""
    if not a and not b:
        return 1.0
    total = len(a) + len(b)
    if 2 * min(len(a), len(b)) < MIN_SIMILARITY * total:
        return 0.0
    return 2 * len(a & b) / total


def _split_args(text: str) -> list[str]:
    """COPY/ADD arguments: JSON form, else shell-like words (quotes kept when they do not parse)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    try:
        return shlex.split(stripped)
    except ValueError:
        return stripped.split()


def _norm_path(path: str) -> str:
    path = re.sub(r"/+", "/", path.strip())
    while path.startswith("./"):
        path = path[2:]
    if len(path) > 1:
        path = path.rstrip("/")
    return path or "."


def layer_step(instruction: str) -> Step | None:
    """The comparable form of a layer's instruction, or None when it is not RUN/COPY/ADD."""
    keyword, _, rest = instruction.strip().partition(" ")
    if keyword not in LAYER_KEYWORDS:
        return None
    if keyword == "RUN":
        return _run_step(rest)
    classic = _CLASSIC_COPY.search(rest)
    if classic:
        return Step(keyword, dests=frozenset({_norm_path(classic["dest"])}), hashed_kind=classic["kind"])
    generic = _GENERIC_COPY.match(rest.strip())
    if generic and not rest.lstrip().startswith("--") and len(rest.split()) == 3:
        return Step(keyword, sources=(generic["src"],), dests=frozenset({_norm_path(generic["dest"])}))
    args = [a for a in _split_args(rest) if not a.startswith("--")]
    if len(args) < 2:
        return Step(keyword, dests=frozenset({_norm_path(args[0])}) if args else frozenset())
    return Step(keyword, sources=tuple(args[:-1]), dests=frozenset({_norm_path(args[-1])}))


def _expand(text: str, env: dict[str, str]) -> str:
    """Substitute `$V`, `${V}` and `${V:-default}` with what the Dockerfile declared; unknown stay."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in env:
            return env[name]
        return match.group(2) if match.group(2) is not None else match.group(0)

    return _VARIABLE.sub(value, text)


def _assignments(text: str) -> Iterator[tuple[str, str]]:
    """`A=1 B="x y"` or the legacy `A value with spaces`, as ENV and ARG write them."""
    parts = _split_args(text)
    if len(parts) >= 2 and "=" not in parts[0]:
        yield parts[0], " ".join(parts[1:])
        return
    for part in parts:
        name, equals, value = part.partition("=")
        if name:
            yield name, value if equals else "\0unset"


def _chain(dockerfile: Dockerfile) -> list[Stage]:
    """The final stage preceded by the stages it is built FROM: all their layers are in the image."""
    stages = list(dockerfile.stages)
    chain = [stages[-1]]
    while True:
        base = chain[0].base.lower()
        parent = next((s for s in reversed(stages[: chain[0].index]) if s.name and s.name.lower() == base),
                      None)
        if parent is None or parent in chain:
            return chain
        chain.insert(0, parent)


def _source_step(instr: Instruction, env: dict[str, str], workdir: str) -> Step:
    if instr.keyword == "RUN":
        exec_form = instr.json_args()
        text = " ".join(exec_form) if exec_form is not None else instr.shell_text
        return _run_step(_SHELL.sub("", text.strip(), count=1))
    args = [_expand(a, env) for a in _split_args(instr.args)]
    if not args:
        return Step(instr.keyword)
    dest = _norm_path(args[-1])
    resolved = _norm_path(posixpath.join(workdir, dest)) if not dest.startswith("$") else dest
    return Step(instr.keyword, sources=tuple(args[:-1]), dests=frozenset({dest, resolved}))


def source_steps(dockerfile: Dockerfile) -> list[tuple[Instruction, Step]]:
    """The RUN/COPY/ADD instructions whose layers end up in the image, in build order."""
    defaults = {k: v for i in dockerfile.global_args for k, v in _assignments(i.args) if v != "\0unset"}
    env: dict[str, str] = {}
    workdir = "/"
    steps = []
    for stage in _chain(dockerfile):
        for instr in stage.instructions:
            if instr.keyword == "ARG":
                for name, value in _assignments(instr.args):
                    if value != "\0unset":
                        env[name] = _expand(value, env)
                    elif name in defaults:
                        env[name] = defaults[name]
            elif instr.keyword == "ENV":
                env.update((name, _expand(value, env)) for name, value in _assignments(instr.args)
                           if value != "\0unset")
            elif instr.keyword == "WORKDIR":
                workdir = posixpath.join(workdir, _expand(instr.args.strip(), env))
            elif instr.keyword in LAYER_KEYWORDS:
                steps.append((instr, _source_step(instr, env, workdir)))
    return steps


def _ratio(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < MIN_SIMILARITY or matcher.quick_ratio() < MIN_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _wildcard(pattern: str) -> re.Pattern[str]:
    """A destination with variables left unresolved, as a regex where each variable matches anything."""
    parts, last = [], 0
    for match in _VARIABLE.finditer(pattern):
        parts += [re.escape(pattern[last:match.start()]), ".*"]
        last = match.end()
    return re.compile("".join([*parts, re.escape(pattern[last:])]))


def _dest_score(layer: frozenset[str], source: frozenset[str]) -> float:
    """1 when a destination agrees, 0.9 when it does up to a variable the Dockerfile left unresolved."""
    if layer & source:
        return 1.0
    for pattern in source:
        if "$" in pattern and any(_wildcard(pattern).fullmatch(d) for d in layer):
            return 0.9
    return 0.0


def similarity(layer: Step, source: Step) -> float:
    """How alike a layer's recorded instruction and a Dockerfile instruction are, 0..1."""
    if layer.keyword != source.keyword:
        return 0.0
    if layer.keyword == "RUN":
        return 1.0 if layer.words == source.words else _dice(layer.shingles, source.shingles)
    dest = _dest_score(layer.dests, source.dests)
    if not dest:
        return 0.0
    if layer.hashed_kind:
        plain_single = len(source.sources) == 1 and not re.search(r"[*?\[]", source.sources[0])
        return dest * (0.6 if layer.hashed_kind == "multi" and plain_single else 1.0)
    return 0.6 * dest + 0.4 * _ratio(layer.sources, source.sources)


def _align(scores: list[list[float]]) -> list[tuple[int, int]]:
    """Pairs (row, column) maximising the total score, in order; ties go to the latest rows."""
    rows, cols = len(scores), len(scores[0]) if scores else 0
    best = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        above, here, row = best[i - 1], best[i], scores[i - 1]
        for j in range(1, cols + 1):
            value = max(above[j], here[j - 1])
            if row[j - 1]:
                value = max(value, above[j - 1] + row[j - 1])
            here[j] = value
    pairs = []
    i, j = rows, cols
    while i and j:
        score = scores[i - 1][j - 1]
        if score and best[i][j] == best[i - 1][j - 1] + score:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def dockerfile_lines(instructions: list[str], dockerfile: Dockerfile | None) -> list[Instruction | None]:
    """The Dockerfile instruction behind each layer, where its content tells it."""
    matched: list[Instruction | None] = [None] * len(instructions)
    if dockerfile is None or dockerfile.final_stage is None:
        return matched
    wanted = source_steps(dockerfile)
    layers = [(index, step) for index, text in enumerate(instructions) if (step := layer_step(text))]
    if not wanted or not layers:
        return matched
    scores = []
    for _index, step in layers:
        row = [similarity(step, source) for _instr, source in wanted]
        scores.append([s if s >= MIN_SIMILARITY else 0.0 for s in row])
    for layer_row, column in _align(scores):
        matched[layers[layer_row][0]] = wanted[column][0]
    return matched
