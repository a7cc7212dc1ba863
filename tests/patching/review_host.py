"""A tiny App that hosts the review screen, for Pilot and snapshot tests."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from core.patching import ApplyResult, Producer, Proposal, Safety, make_create, make_modify
from tui.screens.review import ReviewScreen

LINES = [f"line {i}\n" for i in range(30)]
COMPOSE = "services:\n  web:\n    image: nginx:latest\n    environment:\n      DB_PASSWORD: hunter2xyzzy\n"
FILES = {"notes.txt": "".join(LINES), "docker-compose.yml": COMPOSE}


def sample_proposal(root: Path) -> Proposal:
    """Two hunks in notes.txt, one in the compose file (with a secret to mask), one new file."""
    new = list(LINES)
    new[1] = "FIRST CHANGE\n"
    new[25] = "SECOND CHANGE\n"
    compose = COMPOSE.replace("latest", "1.25").replace("hunter2xyzzy", "${DB_PASSWORD}")
    return Proposal(
        "Pin nginx and move the password out",
        "A floating tag changes under you; a password in the file leaks with the repository.",
        Producer.QUICK_FIX,
        (make_modify(root, "notes.txt", "".join(new)), make_modify(root, "docker-compose.yml", compose),
         make_create(root, ".env.example", "DB_PASSWORD=\n")),
        ("fp-1",),
        ("compose:floating-tag",),
        Safety.REVIEW,
    )


class ReviewHost(App[None]):
    """Pushes the review screen at start and keeps what it dismissed with."""

    def __init__(self, root: Path, proposal: Proposal) -> None:
        super().__init__()
        self.root = root
        self.proposal = proposal
        self.dismissed: list[ApplyResult | None] = []

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.root, self.proposal), callback=self.dismissed.append)
