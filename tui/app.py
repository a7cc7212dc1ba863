"""The Textual application: wires the main screen, the help screen, the palette and the workers.

Contract: `DevopsApp(root)` opens `root`; discovery runs in a thread worker (group "discover"), never
on the UI thread, and reports through messages posted to the main screen that bubble up to the app.
`app.index` is the latest `InfraIndex` (None until the first discovery ends). A scanner starts after
discovery by handling `IndexBuilt` on the app (an `on_index_built` method or `@on(IndexBuilt)`);
the security and duplication scans, quick fixes, abstractions and undo live in `tui.scanning`.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from core.config import load_config_or_default
from core.discovery import InfraIndex, build_index
from core.parsing import ParseCache
from core.progress import Cancelled, CancelToken, Progress
from tui.commands_palette import DevopsCommands
from tui.messages import DiscoveryFailed, DiscoveryProgressed, DiscoveryStarted, FilesListed, IndexBuilt
from tui.scanning import ScanningMixin
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen


class DevopsApp(ScanningMixin, App[None]):
    """devops-tui: a repository's infrastructure in one screen."""

    CSS_PATH = "app.tcss"
    TITLE = "devops-tui"
    COMMANDS = App.COMMANDS | {DevopsCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("r", "rescan", "Rescan"),
        Binding("u", "undo", "Undo"),
        Binding("F", "show_findings", "Findings"),
        Binding("D", "show_duplicates", "Duplicates"),
        Binding("L", "show_layers", "Layers"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (160, "-wide")]

    def __init__(self, root: Path | str, listing: Future[InfraIndex] | None = None) -> None:
        """`listing` is a quick listing (`build_index(parse=False)`) the caller started before Textual
        loaded, so the tree can be painted the moment the screen is up."""
        super().__init__()
        self.root = Path(root).expanduser().absolute()
        self._listing = listing
        self.index: InfraIndex | None = None
        self.parse_cache = ParseCache()
        self.main_screen = MainScreen()
        self._scan_state_init()
        self._cancel: CancelToken | None = None
        self.title = self.root.name or str(self.root)
        self.sub_title = "reading…"

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        self.action_rescan()

    def action_rescan(self) -> None:
        """Discover again, cancelling a running discovery; unchanged files reuse their parse."""
        if self._cancel is not None:
            self._cancel.cancel()
        self._cancel = CancelToken()
        self.main_screen.post_message(DiscoveryStarted(str(self.root)))
        self._discover(self._cancel)

    @work(thread=True, exclusive=True, group="discover", exit_on_error=False)
    def _discover(self, cancel: CancelToken) -> tuple[InfraIndex, float]:
        started = time.perf_counter()
        screen = self.main_screen

        def report(progress: Progress) -> None:
            screen.post_message(DiscoveryProgressed(progress))

        config, problem = load_config_or_default(self.root)
        if problem is not None:
            self.call_from_thread(self.notify, problem, severity="error", timeout=10)
        if self.index is None:
            # First paint: list and classify without parsing (a tenth of the work), then parse.
            listing = self._listing.result() if self._listing is not None else None
            self._listing = None
            quick = listing or build_index(self.root, parse=False, cancel=cancel, config=config)
            screen.post_message(FilesListed(quick))
        index = build_index(self.root, cache=self.parse_cache, progress=report, cancel=cancel, config=config)
        return index, time.perf_counter() - started

    @on(Worker.StateChanged)
    def _discovery_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "discover":
            return
        if event.state is WorkerState.SUCCESS and worker.result is not None:
            index, seconds = worker.result
            self.index = index
            repo = index.repo
            self.title = repo.name
            self.sub_title = f"⎇ {repo.branch}" if repo.is_git and repo.branch else (
                "git repository" if repo.is_git else "not a git repository")
            self.main_screen.post_message(IndexBuilt(index, seconds))
        elif event.state is WorkerState.ERROR and not isinstance(worker.error, Cancelled):
            error = worker.error
            text = str(error) if error is not None else "unknown error"
            self.main_screen.post_message(DiscoveryFailed(f"{type(error).__name__}: {text}"))

    def action_show_layers(self) -> None:
        """Open the Layers screen: image layers, waste, efficiency and hints."""
        from tui.screens.layers import open_layers

        open_layers(self)

    def action_help(self) -> None:
        """Open the help screen with the keys of the current screen."""
        if isinstance(self.screen, HelpScreen):
            return
        keys: dict[str, str] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.description:
                text = "Command palette" if key == self.COMMAND_PALETTE_BINDING else binding.description
                keys.setdefault(self.get_key_display(binding), text)
        self.push_screen(HelpScreen(sorted(keys.items(), key=lambda kv: (len(kv[0]) > 1, kv[0]))))
