"""A read-only, syntax-highlighted view of one parsed file that can mark a line and scroll to it.

Contract: `show_file(parsed, line)` displays the file's text (never re-reading the disk: the parse
holds it) with line numbers, highlighted with Pygments through `textual.highlight` for Dockerfile,
YAML, shell and env files; `mark_line(n)` highlights line `n` and scrolls it into view. Every secret
the detectors find (in any kind of file) is shown redacted, and every env value masked, until the user
reveals them with `v`, so a screen share or a snapshot never shows a secret. `masked_text(parsed)` is
that display form (line count preserved) for any other widget that shows file text.
Only visible lines are rendered (Line API), so a 1 MB file scrolls as smoothly as a small one.
"""

from __future__ import annotations

from collections import OrderedDict

from rich.cells import cell_len
from rich.segment import Segment
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.highlight import highlight
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.models import FileKind
from core.parsing import ParsedFile
from core.redact import redact
from core.secrets.scanner import SecretMatch, find_secrets

#: Files larger than this are shown without highlighting: Pygments would take seconds on them.
HIGHLIGHT_LIMIT = 256 * 1024
MASK = "••••••••"
_CACHE_SIZE = 32

LANGUAGES: dict[FileKind, str] = {
    FileKind.DOCKERFILE: "docker",
    FileKind.COMPOSE: "yaml",
    FileKind.GHA_WORKFLOW: "yaml",
    FileKind.GHA_ACTION: "yaml",
    FileKind.GITLAB_CI: "yaml",
    FileKind.K8S: "yaml",
    FileKind.YAML: "yaml",
    FileKind.SHELL: "bash",
    FileKind.ENV: "bash",
    FileKind.OTHER: "text",
}


def masked_env_text(parsed: ParsedFile, text: str | None = None) -> str:
    """The env file's text (or `text`, the same lines with secrets already masked) with every
    non-empty value replaced by a mask."""
    lines = (parsed.text if text is None else text).splitlines()
    for entry in parsed.env:
        if entry.value and 0 < entry.line <= len(lines):
            line = lines[entry.line - 1]
            lines[entry.line - 1] = line[: entry.value_column - 1] + MASK
    return "\n".join(lines)


_SECRETS: OrderedDict[tuple[str, str], tuple[SecretMatch, ...]] = OrderedDict()


def secrets_in(parsed: ParsedFile) -> tuple[SecretMatch, ...]:
    """The secret values in `parsed` (thorough detection), computed once per file content."""
    key = (parsed.file.sha256, parsed.path)
    found = _SECRETS.get(key)
    if found is None:
        found = tuple(find_secrets(parsed.text, parsed.path, parsed.kind, thorough=True))
        _SECRETS[key] = found
        while len(_SECRETS) > 4 * _CACHE_SIZE:
            _SECRETS.popitem(last=False)
    return found


def _hide(value: str) -> str:
    """A single-line value becomes its redaction; each line of a multi-line one (a PEM body) a mask."""
    if "\n" not in value:
        return redact(value)
    return "\n".join(line[: len(line) - len(line.lstrip())] + MASK if line.strip() else line
                     for line in value.split("\n"))


def masked_text(parsed: ParsedFile) -> str:
    """`parsed.text` safe to display: secrets redacted, env values masked, line numbers unchanged."""
    text = parsed.text
    matches = secrets_in(parsed)
    if matches:
        parts: list[str] = []
        cursor = 0
        for match in matches:
            parts.append(text[cursor:match.start])
            parts.append(_hide(text[match.start:match.end]))
            cursor = match.end
        parts.append(text[cursor:])
        text = "".join(parts)
    return masked_env_text(parsed, text) if parsed.kind is FileKind.ENV else text


def can_mask(parsed: ParsedFile) -> bool:
    """Whether anything in `parsed` is hidden in its display form."""
    return parsed.kind is FileKind.ENV or bool(secrets_in(parsed))


class FileView(ScrollView, can_focus=True):
    """Shows one file with line numbers; one line may be marked (a finding, a search hit)."""

    COMPONENT_CLASSES = {"file-view--gutter", "file-view--marked-line", "file-view--marked-gutter"}
    BINDINGS = [Binding("v", "toggle_reveal", "Reveal values", show=False)]
    DEFAULT_CSS = """
    FileView {
        background: $surface;
        scrollbar-gutter: stable;
        & > .file-view--gutter { color: $text-muted; background: $surface; }
        & > .file-view--marked-gutter { color: $text-warning; background: $warning-muted; text-style: bold; }
        & > .file-view--marked-line { background: $warning-muted; }
    }
    """

    revealed: reactive[bool] = reactive(False)
    """Whether secrets and env values are shown as written (off by default; `v` toggles)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._parsed: ParsedFile | None = None
        self._lines: list[Content] = []
        self._marked: int | None = None
        self._cache: OrderedDict[tuple[str, str, bool], list[Content]] = OrderedDict()

    @property
    def path(self) -> str | None:
        return self._parsed.path if self._parsed is not None else None

    @property
    def marked_line(self) -> int | None:
        return self._marked

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def masked(self) -> bool:
        """Whether some values of the shown file are hidden behind a mask."""
        return self._parsed is not None and not self.revealed and can_mask(self._parsed)

    def visible_text(self) -> str:
        """The text as displayed (masked where masked), for tests and copy actions."""
        return "\n".join(line.plain for line in self._lines)

    def show_file(self, parsed: ParsedFile, line: int | None = None) -> None:
        """Display `parsed`, marking `line` (1-based) and scrolling to it when given."""
        if self._parsed is None or parsed.path != self._parsed.path:
            self.set_reactive(FileView.revealed, False)
        self._parsed = parsed
        self._load()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.mark_line(line)

    def clear(self) -> None:
        """Show nothing."""
        self._parsed = None
        self._lines = []
        self._marked = None
        self.virtual_size = Size(0, 0)
        self.refresh()

    def mark_line(self, line: int | None) -> None:
        """Mark `line` (1-based; None clears the mark) and bring it into view, a third from the top."""
        self._marked = line if line is not None and 0 < line <= len(self._lines) else None
        if self._marked is not None:
            self._scroll_to_mark()
            # A view that was hidden has no height until the next layout; scroll again after it.
            self.call_after_refresh(self._scroll_to_mark)
        self.refresh()

    def _scroll_to_mark(self) -> None:
        if self._marked is not None:
            target = max(0, self._marked - 1 - max(self.size.height, 3) // 3)
            self.scroll_to(y=target, animate=False, immediate=True)

    def action_toggle_reveal(self) -> None:
        """Show or mask secrets and env values (an explicit user action; masked again on another file)."""
        if self._parsed is not None and can_mask(self._parsed):
            self.revealed = not self.revealed

    def watch_revealed(self) -> None:
        if self._parsed is not None:
            self._load()
            self.refresh()

    def _load(self) -> None:
        parsed = self._parsed
        assert parsed is not None
        key = (parsed.file.sha256, parsed.path, self.masked)
        lines = self._cache.get(key)
        if lines is None:
            lines = self._highlight(parsed, self.masked)
            self._cache[key] = lines
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        self._lines = lines
        width = max((line.cell_length for line in lines), default=0)
        self.virtual_size = Size(width + self._gutter_width() + 1, len(lines))

    @staticmethod
    def _highlight(parsed: ParsedFile, masked: bool) -> list[Content]:
        text = masked_text(parsed) if masked else parsed.text
        text = text.expandtabs(4)
        if len(text) > HIGHLIGHT_LIMIT:
            return [Content(line) for line in text.splitlines()]
        content = highlight(text, language=LANGUAGES.get(parsed.kind, "text"))
        lines = list(content.split("\n"))
        expected = len(text.splitlines())
        return lines[:expected] if expected else []

    def _gutter_width(self) -> int:
        return len(str(max(len(self._lines), 1))) + 3

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if number >= len(self._lines):
            return Strip.blank(width, base)
        marked = number + 1 == self._marked
        gutter_width = self._gutter_width()
        gutter_style = self.get_component_rich_style(
            "file-view--marked-gutter" if marked else "file-view--gutter"
        )
        marker = "▶" if marked else " "
        gutter = Strip([Segment(f"{marker}{number + 1:>{gutter_width - 3}} │ ", gutter_style)])
        line_style = self.get_visual_style("file-view--marked-line") if marked else self.visual_style
        parse_style = self.app.stylesheet.parse_style
        segments = [
            Segment(text, style.rich_style)
            for text, style in self._lines[number].render(line_style, end="", parse_style=parse_style)
        ]
        code = Strip(segments, cell_len("".join(s.text for s in segments)))
        code = code.crop_extend(scroll_x, scroll_x + max(width - gutter_width, 0), line_style.rich_style)
        return Strip.join([gutter, code])
