"""The Layers screen: pick a local image or an archive, stream its analysis in, and read its layers.

Contract: `open_layers(app)` shows the one `LayersScreen` of the app (it keeps its report while the app
runs). The picker lists the engine's local images (or says why there is no engine: archives still
work) and, once an archive or OCI directory holding several images is opened, those images too; it
takes an image name or an archive / OCI directory path (relative paths are tried against the
repository first), and the Dockerfile whose lines the layers map to. `analyse(target)` runs
`core.layers.analyse_image` in a thread worker (group "layers"); the engine's layer list shows as soon
as it is known, progress shows in the status line, and escape cancels (then leaves the screen). A
loaded report fills the layer table, the efficiency gauge, the selected layer's file tree, the biggest
waste events and the hints; enter on a hint with a clear Dockerfile edit opens the review screen, else
the hint's advice is shown. `app.layer_report_text` holds the report as text for the agent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from core.dockerfile import Dockerfile
from core.layers.analysis import analyse_image
from core.layers.archive_images import ArchiveImage
from core.layers.engine import EnginePreview, engine_client, list_engine_images
from core.layers.errors import LayerError
from core.layers.hints import format_bytes
from core.layers.history import instruction_of
from core.layers.model import LayerFile, LayerReport
from core.layers.propose import NoProposal, may_propose, propose_for_hint
from core.models import FileKind
from core.patching import ApplyResult
from core.progress import Cancelled, CancelToken, Progress
from tui.commands.layers import render_text
from tui.screens.review import ReviewScreen
from tui.widgets.empty_state import EmptyState
from tui.widgets.layers_files import Folder, LayerFilesTree, group_files
from tui.widgets.layers_gauge import EfficiencyGauge
from tui.widgets.layers_hints import HintList
from tui.widgets.status_line import StatusLine

SCREEN_NAME = "layers"
#: Layers with more tar entries than this get their file list built in a thread.
INLINE_ENTRIES = 5000
WASTE_ROWS = 200


@dataclass
class LayersProgressed(Message):
    """The analysis reached `progress`; a newer one replaces an undelivered older one."""

    progress: Progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LayersProgressed)


@dataclass
class LayersPreviewed(Message):
    """The engine listed the image's layers before any content was read."""

    preview: EnginePreview


def open_layers(app: App[Any]) -> None:
    """Show the app's Layers screen, installing it the first time."""
    if isinstance(app.screen, LayersScreen):
        return
    if not app.is_screen_installed(SCREEN_NAME):
        app.install_screen(LayersScreen(), SCREEN_NAME)
    app.push_screen(SCREEN_NAME)


def display_name(target: str) -> str:
    """An archive is named by its file name (no temp folders on screen); an image by its name."""
    path = Path(target)
    return path.name if target.startswith(("/", ".", "~")) or path.exists() else target


def _preview_rows(preview: EnginePreview) -> list[tuple[str, int]]:
    """(instruction, size) per layer from the engine's history, when it lines up with the layers."""
    made = [(instruction_of(created), size) for created, size in preview.history
            if size or not instruction_of(created).startswith(("ENV", "CMD", "LABEL", "WORKDIR", "USER",
                                                               "EXPOSE", "ENTRYPOINT", "ARG", "#(nop)"))]
    if len(made) == len(preview.diff_ids):
        return made
    return [("", 0)] * len(preview.diff_ids)


class LayersScreen(Screen[None]):
    """Image picker beside the analysis: title, gauge, layer table and Files / Waste / Hints tabs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel / back"),
        Binding("p", "toggle_picker", "Picker"),
        Binding("o", "focus_target", "Open path"),
        Binding("f", "show_tab('layers-files')", "Files", show=False),
        Binding("w", "show_tab('layers-waste')", "Waste", show=False),
        Binding("h", "show_tab('layers-hints-tab')", "Hints", show=False),
    ]
    DEFAULT_CSS = """
    LayersScreen #layers-body { height: 1fr; }
    LayersScreen #layers-picker {
        width: 40; border-right: vkey $panel-lighten-2; padding: 0 1;
        & > Label { color: $text-muted; margin-top: 1; }
        & > #layers-images { height: 1fr; border: none; text-wrap: nowrap; text-overflow: ellipsis; }
        & > #layers-engine { color: $text-warning; height: auto; }
        & > #layers-engine.-hidden { display: none; }
    }
    LayersScreen.-picker-hidden #layers-picker { display: none; }
    LayersScreen #layers-main { width: 1fr; }
    LayersScreen #layers-title { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap;
                                 text-overflow: ellipsis; }
    LayersScreen #layers-table { height: auto; max-height: 45%; }
    LayersScreen #layers-tabs { height: 1fr; }
    LayersScreen #layers-tabs TabPane { padding: 0; height: 1fr; }
    LayersScreen #layers-waste { height: 1fr; }
    LayersScreen #layers-empty { display: none; }
    LayersScreen.-no-report #layers-empty { display: block; }
    LayersScreen.-no-report #layers-table, LayersScreen.-no-report #layers-tabs,
    LayersScreen.-no-report #layers-gauge { display: none; }
    """

    show_picker: reactive[bool] = reactive(True)
    """Whether the picker column is shown; `p` toggles it to give the report the full width."""

    def __init__(self) -> None:
        super().__init__()
        self.report: LayerReport | None = None
        self.target = ""
        self.dockerfile_path: str | None = None
        self._cancel: CancelToken | None = None
        self._analysis: Worker[LayerReport] | None = None
        self._files_worker: Worker[tuple[int, tuple[LayerFile, ...], Folder]] | None = None
        self.image: str | None = None  # the image chosen inside a multi-image archive
        self._report_image: str | None = None  # the chosen image the shown report is of
        self._engine_rows: list[tuple[str, str, int]] = []
        self._archive: tuple[str, tuple[ArchiveImage, ...]] | None = None
        self._images: list[tuple[str, str | None] | None] = []  # per picker option: (target, image)
        self._started = 0.0
        self._bytes = (0, 0)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="layers-body"):
            with Vertical(id="layers-picker"):
                yield Label("Local images")
                yield Static("Asking the Docker engine…", id="layers-engine", markup=False)
                yield OptionList(id="layers-images")
                yield Label("Image name or archive path")
                yield Input(placeholder="image:tag, image.tar or an OCI dir", id="layers-target")
                yield Label("Dockerfile for line numbers")
                yield Select[str]([], prompt="(none)", id="layers-dockerfile")
            with Vertical(id="layers-main"):
                yield Static("No image loaded", id="layers-title", markup=False)
                yield EfficiencyGauge(id="layers-gauge")
                yield EmptyState(id="layers-empty")
                yield DataTable(id="layers-table", cursor_type="row", zebra_stripes=True)
                with TabbedContent(id="layers-tabs"):
                    with TabPane("Files", id="layers-files"):
                        yield LayerFilesTree(id="layers-tree")
                    with TabPane("Waste", id="layers-waste-tab"):
                        yield DataTable(id="layers-waste", cursor_type="row")
                    with TabPane("Hints", id="layers-hints-tab"):
                        yield HintList(id="layers-hints")
        yield StatusLine(id="layers-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Layers"
        self.set_class(True, "-no-report")
        self.query_one(EmptyState).show(
            "Analyse an image",
            "Pick a local image on the left, or type an image name, a [b]docker save[/] archive or an OCI "
            "layout directory and press [b]enter[/].\nEscape cancels a running analysis, then goes back.",
        )
        table = self.query_one("#layers-table", DataTable)
        table.add_columns("#", "size", "wasted later", "added", "mod", "del", "line", "instruction")
        waste = self.query_one("#layers-waste", DataTable)
        waste.add_columns("size", "path", "cause", "written by", "hidden by")
        self.status.idle("Pick an image or open an archive")
        self._fill_dockerfiles()
        self.query_one("#layers-images", OptionList).focus()
        self._list_images()

    def on_screen_resume(self) -> None:
        self._fill_dockerfiles()

    @property
    def status(self) -> StatusLine:
        return self.query_one("#layers-status", StatusLine)

    @property
    def files_tree(self) -> LayerFilesTree:
        return self.query_one(LayerFilesTree)

    @property
    def running(self) -> bool:
        worker = self._analysis
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # Picker -------------------------------------------------------------------------------------

    def _fill_dockerfiles(self) -> None:
        """Offer the repository's Dockerfiles; keep the choice, else prefer ./Dockerfile or the only one."""
        index = getattr(self.app, "index", None)
        select: Select[str] = self.query_one("#layers-dockerfile", Select)
        if index is None:
            return
        paths = sorted(p.path for p in index.of_kind(FileKind.DOCKERFILE))
        current = select.value if isinstance(select.value, str) else None
        select.set_options([(p, p) for p in paths])
        choice = current if current in paths else "Dockerfile" if "Dockerfile" in paths else (
            paths[0] if len(paths) == 1 else None)
        if choice is not None:
            select.value = choice

    @work(thread=True, exclusive=True, group="layers-images", exit_on_error=False)
    def _list_images(self) -> list[tuple[str, str, int]]:
        return list_engine_images(engine_client(timeout=10))

    def _show_images(self, rows: list[tuple[str, str, int]]) -> None:
        engine = self.query_one("#layers-engine", Static)
        self._engine_rows = rows
        self._fill_picker()
        engine.update("" if rows else "The engine has no local images; archives still work.")
        engine.set_class(bool(rows), "-hidden")

    def _fill_picker(self) -> None:
        """The engine's images, then the images of the multi-image archive opened last."""
        images = self.query_one("#layers-images", OptionList)
        images.clear_options()
        options: list[Option] = []
        self._images = []
        for name, _id, size in self._engine_rows:
            options.append(Option(Text.assemble(name, (f"  {format_bytes(size)}", "dim"))))
            self._images.append((name, None))
        if self._archive is not None:
            target, found = self._archive
            options.append(Option(Text(f"In {display_name(target)}:", style="bold"), disabled=True))
            self._images.append(None)
            for image in found:
                layers = f"  {image.layers} layers" if image.layers is not None else ""
                options.append(Option(Text.assemble(f"  {image.label}", (layers, "dim"))))
                self._images.append((target, image.label))
        images.add_options(options)
        if options:
            images.highlighted = 0


    def _show_engine_problem(self, problem: str) -> None:
        engine = self.query_one("#layers-engine", Static)
        engine.update(f"{problem}\n\nArchives still work: type a path below.")
        engine.remove_class("-hidden")
        images = self.query_one("#layers-images", OptionList)
        images.display = False
        if self.focused is None or self.focused is images:
            self.query_one("#layers-target", Input).focus()

    @on(OptionList.OptionSelected, "#layers-images")
    def _image_chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = self._images[event.option_index] if event.option_index < len(self._images) else None
        if chosen is None:
            return
        target, image = chosen
        self.query_one("#layers-target", Input).value = target
        self.analyse(target, image)

    @on(Input.Submitted, "#layers-target")
    def _target_submitted(self, event: Input.Submitted) -> None:
        self.analyse(event.value)

    @on(Select.Changed, "#layers-dockerfile")
    def _dockerfile_changed(self) -> None:
        if self.report is not None and self.target and not self.running:
            self.status.idle("Dockerfile changed: press enter on the path to analyse again with its lines")

    def _dockerfile(self) -> tuple[str | None, Dockerfile | None]:
        value = self.query_one("#layers-dockerfile", Select).value
        index = getattr(self.app, "index", None)
        if not isinstance(value, str) or index is None:
            return None, None
        parsed = index.parsed.get(value)
        return value, parsed.dockerfile if parsed is not None else None

    def _resolve(self, target: str) -> str:
        """An existing path relative to the repository wins; `~` is expanded."""
        root = getattr(self.app, "root", None)
        path = Path(target).expanduser()
        if not path.is_absolute() and isinstance(root, Path) and (root / path).exists():
            return str(root / path)
        return str(path) if target.startswith("~") else target

    # Analysis -----------------------------------------------------------------------------------

    def analyse(self, target: str, image: str | None = None) -> None:
        """Analyse `target` (image name, archive or OCI dir; `image` picks one inside an archive that
        holds several), cancelling a running analysis."""
        target = target.strip()
        if not target:
            self.notify("Type an image name or an archive path first.", severity="warning")
            return
        if self._cancel is not None:
            self._cancel.cancel()
        self._cancel = CancelToken()
        self.target, self.image = target, image
        self.dockerfile_path, dockerfile = self._dockerfile()
        self._started = time.perf_counter()
        self._bytes = (0, 0)
        shown = self.shown_name
        self.query_one("#layers-title", Static).update(f"{shown} · analysing…")
        self.status.busy(f"Analysing {shown}… (escape cancels)")
        self._analysis = self._analyse(self._resolve(target), image, dockerfile, self._cancel)

    @property
    def shown_name(self) -> str:
        """The target as the screen names it: 'app.tar › web:2' for an image inside an archive."""
        return display_name(self.target) + (f" › {self.image}" if self.image else "")

    @work(thread=True, exclusive=True, group="layers", exit_on_error=False)
    def _analyse(self, target: str, image: str | None, dockerfile: Dockerfile | None,
                 cancel: CancelToken) -> LayerReport:
        def progress(update: Progress) -> None:
            self.post_message(LayersProgressed(update))

        def preview(found: EnginePreview) -> None:
            self.post_message(LayersPreviewed(found))

        return analyse_image(target, image=image, dockerfile=dockerfile, progress=progress, cancel=cancel,
                             on_preview=preview)

    def on_layers_progressed(self, event: LayersProgressed) -> None:
        if not self.running:
            return
        p = event.progress
        name = self.shown_name
        if p.stage == "reading" and p.total:
            self._bytes = (min(p.done, p.total), p.total)  # the save stream outgrows the engine's size
        done, total = self._bytes
        read = f"{format_bytes(done)} of {format_bytes(total)}" if total else ""
        if p.stage == "replay":
            text, done, total = f"Replaying {p.total} layers of {name}…", p.done, p.total
        elif p.stage == "layers":
            text = f"Reading {name}: layer {p.done + 1}" + (f", {read}" if read else "")
        else:
            text = f"Reading {name}: {read or p.detail[:40]}"
        self.status.busy(text + " (escape cancels)", done, total)

    def on_layers_previewed(self, event: LayersPreviewed) -> None:
        """Show the engine's layer list at once, while the content still streams in."""
        if not self.running:
            return
        rows = _preview_rows(event.preview)
        table = self.query_one("#layers-table", DataTable)
        table.clear()
        for index, (instruction, size) in enumerate(rows):
            table.add_row(str(index), format_bytes(size), "…", "", "", "", "", instruction or "(reading)",
                          key=str(index))
        self.set_class(False, "-no-report")
        self.query_one(EfficiencyGauge).update(Text("reading the layers' content…", style="dim italic"))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "layers-images":
            if event.state is WorkerState.SUCCESS and isinstance(worker.result, list):
                self._show_images(worker.result)
            elif event.state is WorkerState.ERROR:
                error = worker.error
                self._show_engine_problem(str(error) if isinstance(error, LayerError) else
                                          f"cannot list images: {type(error).__name__}: {error}")
        elif worker.group == "layers" and worker is self._analysis:
            self._analysis_changed(worker, event.state)
        elif (worker.group == "layers-files" and worker is self._files_worker
              and event.state is WorkerState.SUCCESS and worker.result is not None):
            layer, files, folder = worker.result
            self._show_layer_files(layer, files, folder)

    def _analysis_changed(self, worker: Worker[LayerReport], state: WorkerState) -> None:
        name = self.shown_name
        if state is WorkerState.SUCCESS and isinstance(worker.result, LayerReport):
            seconds = time.perf_counter() - self._started
            self.log.info(f"layers: {name} analysed in {seconds:.3f}s")
            self._report_image = self.image
            if worker.result.images and self._archive != (self.target, worker.result.images):
                self._archive = (self.target, worker.result.images)  # the picker offers each image
                self._fill_picker()
                self.query_one("#layers-images", OptionList).display = True
            self.show_report(worker.result)
        elif state is WorkerState.ERROR:
            error = worker.error
            if isinstance(error, Cancelled):
                self._stopped(f"Analysis of {name} cancelled")
            elif isinstance(error, LayerError):
                self._stopped(f"Cannot analyse {name}", str(error))
            else:
                self._stopped(f"Analysis of {name} failed", f"{type(error).__name__}: {error}")
        elif state is WorkerState.CANCELLED:
            self._stopped(f"Analysis of {name} cancelled")

    def _stopped(self, title: str, detail: str = "") -> None:
        """The analysis ended without a report: say so; a previous report, if any, stays."""
        self.status.idle(f"[$text-error]{_escape(title)}[/]" + (f": {_escape(detail)}" if detail else ""))
        if self.report is None:
            self.set_class(True, "-no-report")
            self.query_one("#layers-title", Static).update(title)
            self.query_one(EmptyState).show(_escape(title), _escape(detail) or
                                            "Pick an image or type a path to analyse again.")
        else:
            self.show_report(self.report)
            self.status.idle(f"[$text-error]{_escape(title)}[/]" + (f": {_escape(detail)}" if detail else "")
                             + " · showing the previous report")

    def action_cancel_or_close(self) -> None:
        """Cancel a running analysis; when none runs, go back to the main screen."""
        if self.running and self._cancel is not None and self._analysis is not None:
            # The core stops at its next check (a huge layer member may take a while); the screen
            # lets go of the worker now, so its late result or error is ignored.
            self._cancel.cancel()
            self._analysis.cancel()
            self._analysis = None
            self._stopped(f"Analysis of {self.shown_name} cancelled")
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # Report -------------------------------------------------------------------------------------

    def show_report(self, report: LayerReport) -> None:
        """Fill the title, gauge, tables and hints from `report` and select the first user layer."""
        self.report = report
        name = display_name(report.image) + (f" › {self._report_image}" if self._report_image else "")
        base = f"base {report.base_layers}" + ("" if report.base_known else " (assumed)")
        mapped = f" · lines of {self.dockerfile_path}" if self.dockerfile_path else ""
        self.query_one("#layers-title", Static).update(
            f"{name} ({report.source}) · {len(report.layers)} layers · {base}{mapped}")
        self.query_one(EfficiencyGauge).show_report(report)
        self.set_class(False, "-no-report")
        table = self.query_one("#layers-table", DataTable)
        table.clear()
        for layer in report.layers:
            style = "dim" if layer.is_base else ""
            wasted = Text(format_bytes(layer.obsolete_later_bytes) if layer.obsolete_later_bytes else "",
                          style="red" if layer.obsolete_later_bytes else "")
            instruction = ("(base) " if layer.is_base else "") + (layer.instruction or "(unknown)")
            table.add_row(
                Text(str(layer.index), style=style), Text(format_bytes(layer.content_bytes), style=style),
                wasted, str(layer.files_added), str(layer.files_modified), str(layer.files_removed),
                str(layer.dockerfile_line or ""), Text(instruction[:200], style=style), key=str(layer.index))
        waste = self.query_one("#layers-waste", DataTable)
        waste.clear()
        for number, event in enumerate(report.biggest_events(WASTE_ROWS)):
            waste.add_row(format_bytes(event.bytes), event.path, event.cause.value, str(event.written_by),
                          str(event.hidden_by), key=str(number))
        offers = [self.dockerfile_path is not None and may_propose(h) for h in report.hints]
        self.query_one(HintList).show_hints(report.hints, offers)
        self._set_tab_labels(report)
        first = report.base_layers if report.base_layers < len(report.layers) else 0
        self.files_tree.shown_layer = None
        if report.layers:
            table.move_cursor(row=first)
            self.show_layer(first)
        picker = self.query_one("#layers-picker")
        if self.focused is None or picker in self.focused.ancestors:
            table.focus()
        self.app.layer_report_text = render_text(report)  # type: ignore[attr-defined]  # the agent reads it
        parts = [f"{name}: {len(report.layers)} layers", f"efficiency {report.efficiency:.1%}",
                 f"wasted {format_bytes(report.wasted_bytes)}", f"{len(report.hints)} hints"]
        self.status.idle(" · ".join(parts))
        for note in report.notes:
            self.notify(note, title="Layer analysis", severity="warning", timeout=8)

    def _set_tab_labels(self, report: LayerReport) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("layers-waste-tab").label = f"Waste ({len(report.events)})"
        tabs.get_tab("layers-hints-tab").label = f"Hints ({len(report.hints)})"

    def show_layer(self, index: int) -> None:
        """Show layer `index`'s file tree; a large layer's list is built in a thread."""
        report = self.report
        if report is None or not 0 <= index < len(report.layers):
            return
        if self.files_tree.shown_layer == index and self._files_worker is None:
            return
        if report.layers[index].entries <= INLINE_ENTRIES:
            self._files_worker = None
            files = report.layer_files(index)
            self._show_layer_files(index, files, group_files(files))
        else:
            entries = report.layers[index].entries
            self.files_tree.root.set_label(f"layer {index}: listing {entries:,} entries…")
            self._files_worker = self._layer_files(report, index)

    @work(thread=True, exclusive=True, group="layers-files", exit_on_error=False)
    def _layer_files(self, report: LayerReport, index: int) -> tuple[int, tuple[LayerFile, ...], Folder]:
        files = report.layer_files(index)
        return index, files, group_files(files)

    def _show_layer_files(self, index: int, files: tuple[LayerFile, ...], folder: Folder) -> None:
        self._files_worker = None
        if self.report is None:
            return
        self.files_tree.show_files(index, files, self.report.layers[index].instruction[:80], grouped=folder)

    @on(DataTable.RowHighlighted, "#layers-table")
    def _layer_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.report is not None and not self.running:
            self.show_layer(event.cursor_row)

    @on(DataTable.RowSelected, "#layers-waste")
    def _waste_selected(self, event: DataTable.RowSelected) -> None:
        """Jump to the layer that wrote the wasted bytes."""
        if self.report is None:
            return
        events = self.report.biggest_events(WASTE_ROWS)
        if 0 <= event.cursor_row < len(events):
            written = events[event.cursor_row].written_by
            self.query_one("#layers-table", DataTable).move_cursor(row=written)
            self.query_one(TabbedContent).active = "layers-files"

    # Hints --------------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#layers-hints")
    def _hint_chosen(self, event: OptionList.OptionSelected) -> None:
        report = self.report
        if report is None or not 0 <= event.option_index < len(report.hints):
            return
        hint = report.hints[event.option_index]
        root = getattr(self.app, "root", None)
        try:
            if not isinstance(root, Path):
                raise NoProposal("no repository is open")
            proposal = propose_for_hint(root, self.dockerfile_path, report, hint)
        except NoProposal as exc:
            advice = hint.suggestion or hint.message
            self.notify(f"{advice}\n\n{exc}", title=hint.title, timeout=10)
            return
        self.app.push_screen(ReviewScreen(root, proposal), self._after_review)

    def _after_review(self, result: ApplyResult | None) -> None:
        if result is None:
            return
        self.notify(result.summary + " · analyse the rebuilt image to see the gain", title="Applied")
        rescan = getattr(self.app, "action_rescan", None)
        if callable(rescan):
            rescan()

    # Actions ------------------------------------------------------------------------------------

    def watch_show_picker(self, show: bool) -> None:
        self.set_class(not show, "-picker-hidden")
        picker = self.query_one("#layers-picker")
        if not show and self.focused is not None and picker in self.focused.ancestors:
            self.query_one("#layers-table", DataTable).focus()

    def action_toggle_picker(self) -> None:
        """Show or hide the picker column."""
        self.show_picker = not self.show_picker

    def action_focus_target(self) -> None:
        """Show the picker and move to the image / path input."""
        self.show_picker = True
        self.query_one("#layers-target", Input).focus()

    def action_show_tab(self, tab: str) -> None:
        """Switch to the Files, Waste or Hints tab and move into it."""
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        for widget in pane.query("LayerFilesTree, DataTable, HintList"):
            widget.focus()
            break


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
