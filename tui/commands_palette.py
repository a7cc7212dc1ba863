"""The command palette's devops-tui commands (ctrl+p): app actions plus "open" for every infra file.

Contract: `PALETTE_COMMANDS` is the list of action commands; a feature adds its own with
`register_command(PaletteCommand(title, help, action))`. An action runs against the screen the palette
was opened from (`app.` actions reach the app), so "toggle_tree" means `MainScreen.action_toggle_tree`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """A palette entry: what the user reads, a help line, and the Textual action it runs."""

    title: str
    help: str
    action: str


PALETTE_COMMANDS: list[PaletteCommand] = [
    PaletteCommand("Rescan repository", "Discover and parse the files again", "app.rescan"),
    PaletteCommand("Toggle tree", "Show or hide the infrastructure tree", "toggle_tree"),
    PaletteCommand("Show skipped files", "List the files discovery skipped, with reasons", "show_skipped"),
    PaletteCommand("Analyse image layers", "A local image or an archive: layers, waste, hints",
                   "app.show_layers"),
    PaletteCommand("Help", "Keys, recognised files, what devops-tui does", "app.help"),
    PaletteCommand("Quit", "Leave devops-tui", "app.quit"),
]

#: Prefix of the open-a-file commands, so "open" finds them all.
OPEN_PREFIX = "Open "


def register_command(command: PaletteCommand) -> None:
    """Offer `command` in the palette (a later feature calls this at import time)."""
    if command not in PALETTE_COMMANDS:
        PALETTE_COMMANDS.append(command)


class DevopsCommands(Provider):
    """Action commands and one "Open <path>" command per infrastructure file."""

    async def discover(self) -> Hits:
        for command in PALETTE_COMMANDS:
            yield DiscoveryHit(command.title, partial(self._run, command.action), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in PALETTE_COMMANDS:
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), partial(self._run, command.action),
                          help=command.help)
        for path in self._paths():
            text = OPEN_PREFIX + path
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._open, path), help="show the file")

    def _paths(self) -> list[str]:
        index = getattr(self.app, "index", None)
        return [f.path for f in index.infra_files()] if index is not None else []

    async def _run(self, action: str) -> None:
        await self.app.run_action(action, self.screen)

    def _open(self, path: str) -> None:
        open_file = getattr(self.screen, "open_file", None)
        if open_file is not None:
            open_file(path)
