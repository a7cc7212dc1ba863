"""Find secrets in any text, and produce the masked or redacted text every output must use.

Contract:
- `find_secrets(text, path, kind)` returns non-overlapping `SecretMatch`es sorted by position: the
  detector and rule, the offsets and 1-based line/column range of the secret VALUE, the range a
  finding should span, and the value itself (kept out of `repr`).
- `mask_secrets(text, ...)` replaces each value by `«SECRET_n»` (one placeholder per distinct value)
  and keeps the mapping so a reply written against the masked text can be mapped back; this is the
  only form of a file the LLM agent and the file view may show. `SecretMasker` keeps one numbering
  across many files.
- `redacted_lines` (whole-file context, line count kept), `redact_secrets` and `redact_line` (one
  line alone, best effort) replace values by `core.redact.redact(value)` for snippets and views.
Nothing here prints, logs or raises on bad input: any str is valid input.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.models import FileKind
from core.redact import redact
from core.secrets.detectors import DETECTORS, Candidate, ScanInput, find_candidates, lower_same_length
from core.secrets.keywords import shannon_entropy


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret: where its value is, which detector saw it, and which rule reports it.

    `start`/`end` are offsets of the value in the text; `line`…`end_column` are the same range,
    1-based with an exclusive end column. `region_*` is what a finding points at (a PEM block spans
    BEGIN…END while its value is the body). `value` is excluded from `repr` so a stray log line or
    assertion message cannot leak it.
    """

    detector_id: str
    rule_id: str
    title: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    region_start: int
    region_end: int
    region_line: int
    region_column: int
    region_end_line: int
    region_end_column: int
    key: str = ""
    value: str = field(default="", repr=False)


class _LineIndex:
    """Offset → (line, column) by binary search over line starts, built only when needed."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def _infer_kind(path: str) -> FileKind | None:
    if not path:
        return None
    from core.classify import kind_from_name

    return kind_from_name(path) or FileKind.YAML


def _resolve(candidates: list[tuple[int, Candidate, int]]) -> list[tuple[int, Candidate]]:
    """Keep the best of overlapping detections: higher priority, then longer value, then earlier."""
    ordered = sorted(candidates, key=lambda c: (-c[2], -(c[1].end - c[1].start), c[1].start))
    kept: list[tuple[int, Candidate]] = []
    spans: list[tuple[int, int]] = []
    for index, cand, _ in ordered:
        lo, hi = min(cand.start, cand.region_start), max(cand.end, cand.region_end)
        if any(lo < s_hi and s_lo < hi for s_lo, s_hi in spans):
            continue
        spans.append((lo, hi))
        kept.append((index, cand))
    kept.sort(key=lambda item: item[1].start)
    return kept


def find_secrets(text: str, path: str = "", kind: FileKind | None = None, *,
                 thorough: bool = False) -> list[SecretMatch]:
    """Every secret value in `text`, non-overlapping, in file order.

    `kind` (inferred from `path` when omitted) decides how strictly unquoted `key: value` pairs are
    read: in source code and prose only quoted or `KEY=value` literals count. `thorough` reads them
    everywhere — what masking uses, where a false positive costs nothing.
    """
    if not text:
        return []
    if kind is None:
        kind = _infer_kind(path)
    scan = ScanInput(text, lower_same_length(text), kind, thorough)
    candidates = [
        (index, cand, DETECTORS[index].priority)
        for index, cand in find_candidates(scan)
        if cand.end > cand.start
    ]
    if not candidates:
        return []
    lines = _LineIndex(text)
    matches: list[SecretMatch] = []
    for index, cand in _resolve(candidates):
        detector = DETECTORS[index]
        line, column = lines.position(cand.start)
        end_line, end_column = lines.position(cand.end)
        r_line, r_column = lines.position(cand.region_start)
        r_end_line, r_end_column = lines.position(cand.region_end)
        matches.append(
            SecretMatch(
                detector.id, detector.rule_id, detector.title, cand.start, cand.end, line, column,
                end_line, end_column, cand.region_start, cand.region_end, r_line, r_column, r_end_line,
                r_end_column, cand.key, text[cand.start:cand.end],
            )
        )
    return matches


PLACEHOLDER_PATTERN = re.compile(r"«SECRET_(\d+)»")


def placeholder(number: int) -> str:
    return f"«SECRET_{number}»"


@dataclass(frozen=True, slots=True)
class MaskedText:
    """A text with every secret value replaced by a `«SECRET_n»` placeholder."""

    text: str
    mapping: Mapping[str, str] = field(repr=False)
    matches: tuple[SecretMatch, ...] = ()

    @property
    def count(self) -> int:
        return len(self.matches)

    def unmask(self, text: str | None = None) -> str:
        """Put the real values back into `text` (default: this masked text); unknown placeholders stay."""
        source = self.text if text is None else text
        return PLACEHOLDER_PATTERN.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), source)


class SecretMasker:
    """Masks many texts with one numbering: a value gets the same placeholder in every file."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._next = 1

    @property
    def mapping(self) -> Mapping[str, str]:
        """placeholder → value for everything masked so far."""
        return dict(self._by_placeholder)

    def _placeholder_for(self, value: str, taken: str) -> str:
        known = self._by_value.get(value)
        if known is not None:
            return known
        while placeholder(self._next) in taken:  # never reuse a marker the text already contains
            self._next += 1
        name = placeholder(self._next)
        self._next += 1
        self._by_value[value] = name
        self._by_placeholder[name] = value
        return name

    def mask(self, text: str, path: str = "", kind: FileKind | None = None) -> MaskedText:
        matches = find_secrets(text, path, kind, thorough=True)
        if not matches:
            return MaskedText(text, {}, ())
        taken = text if "«SECRET_" in text else ""
        parts: list[str] = []
        used: dict[str, str] = {}
        cursor = 0
        for match in matches:
            name = self._placeholder_for(match.value, taken)
            used[name] = match.value
            parts.append(text[cursor:match.start])
            parts.append(name)
            cursor = match.end
        parts.append(text[cursor:])
        return MaskedText("".join(parts), used, tuple(matches))

    def unmask(self, text: str) -> str:
        """Map every placeholder this masker issued back to its value."""
        return PLACEHOLDER_PATTERN.sub(lambda m: self._by_placeholder.get(m.group(0), m.group(0)), text)


def mask_secrets(text: str, path: str = "", kind: FileKind | None = None) -> MaskedText:
    """`text` with each secret value replaced by `«SECRET_n»`; the same value gets the same number."""
    return SecretMasker().mask(text, path, kind)


def redact_secrets(text: str, path: str = "", kind: FileKind | None = None) -> str:
    """`text` with each secret value replaced by its redacted form (`ghp_…[sha256:1a2b3c4d5e6f]`)."""
    matches = find_secrets(text, path, kind, thorough=True)
    if not matches:
        return text
    parts: list[str] = []
    cursor = 0
    for match in matches:
        parts.append(text[cursor:match.start])
        parts.append(redact(match.value))
        cursor = match.end
    parts.append(text[cursor:])
    return "".join(parts)


def redacted_lines(text: str, path: str = "", kind: FileKind | None = None) -> list[str]:
    """The file's lines with secrets redacted using the whole file as context, line count kept.

    This is the form for snippets and line-numbered views: a multi-line value (a PEM body) shows its
    redacted form on its first line and `…` on each further line, at that line's indentation.
    """
    matches = find_secrets(text, path, kind, thorough=True)
    if not matches:
        return text.splitlines()
    parts: list[str] = []
    cursor = 0
    for match in matches:
        parts.append(text[cursor:match.start])
        _, *rest = match.value.split("\n")
        parts.append(redact(match.value))
        for line in rest:
            body = line.lstrip()
            parts.append("\n" + line[: len(line) - len(body)] + ("…" if body else ""))
        cursor = match.end
    parts.append(text[cursor:])
    return "".join(parts).splitlines()


#: A long base64-alphabet run; on a line seen out of context (a PEM body line) it may be key material.
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_-]{40,}")
#: A line that is nothing but a base64 blob (the short last line of a PEM body, say).
_BLOB_LINE = re.compile(r"^(\s*)([A-Za-z0-9+/]{16,}={0,2})(\s*)$")


def redact_line(line: str, path: str = "", kind: FileKind | None = None) -> str:
    """One line safe to show as a snippet: secrets redacted, and stray key material too.

    A line taken from the middle of a file may hold part of a multi-line secret that no detector can
    recognise on its own, so a line that is only a base64 blob, and any 40+ character run denser than
    hex (> 4.5 bits per character), is redacted as well; digests and hex ids (at most 4 bits per
    character) survive. Prefer `redact_secrets` on the whole text when you have it.
    """
    redacted = redact_secrets(line, path, kind)
    blob = _BLOB_LINE.match(redacted)
    if blob and shannon_entropy(blob.group(2)) > 3.5:
        return f"{blob.group(1)}{redact(blob.group(2))}{blob.group(3)}"

    def hide(match: re.Match[str]) -> str:
        run = match.group(0)
        if "…[sha256:" in run or shannon_entropy(run) <= 4.5:
            return run
        return redact(run)

    return _LONG_RUN.sub(hide, redacted)
