"""`devops-tui undo [PATH]`: undo the last change devops-tui applied, or list the journal.

Exit codes: 0 undone (or listed), 1 nothing to undo, 2 refused or error. A refusal prints the diff
between what devops-tui wrote and what is on disk now (secret values masked). It never runs git.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.patching.journal import JournalError, NothingToUndo, UndoRefused, list_entries, undo_last

EXIT_OK, EXIT_NOTHING, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository (default: current folder)")
    parser.add_argument("--list", action="store_true", help="list the journal instead of undoing")


def _list(root: Path) -> int:
    entries = list_entries(root)
    if not entries:
        print("the undo journal is empty")
        return EXIT_OK
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created))
        paths = [f.path for f in entry.files]
        files = ", ".join(paths[:3]) + (f" (+{len(paths) - 3} more)" if len(paths) > 3 else "")
        print(f"{when}  {entry.state:<8}  {entry.title}  [{entry.producer}]  {files}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    root = Path(args.path)
    if not root.is_dir():
        print(f"devops-tui undo: {root}: not a folder", file=sys.stderr)
        return EXIT_ERROR
    if args.list:
        return _list(root)
    try:
        result = undo_last(root)
    except NothingToUndo as exc:
        print(f"devops-tui undo: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except UndoRefused as exc:
        print(f"devops-tui undo: {exc}", file=sys.stderr)
        sys.stderr.write(exc.diffs)
        return EXIT_ERROR
    except (JournalError, OSError) as exc:
        print(f"devops-tui undo: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(result.summary)
    for path in result.restored:
        print(f"  restored {path}")
    if result.already:
        print(f"  already as before (the apply was interrupted): {', '.join(result.already)}")
    if result.entry.commit:
        print(f"  note: the change was committed as {result.entry.commit[:10]}; the undo is left uncommitted")
    return EXIT_OK
