"""The `devops-tui` command: opens the app, or runs one headless job (scan, fix, dupes, layers, ask).

Headless sub-commands live in `tui/commands/<name>.py`, each with `add_arguments(parser)` and
`run(args) -> int`; they are imported only when used so `devops-tui scan` never loads Textual.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from core import __version__

#: sub-command name -> (module, one-line help). A module that does not exist yet is not offered.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("tui.commands.scan", "security scan: text, JSON or SARIF; exit code by severity"),
    "fix": ("tui.commands.fix", "print or apply quick fixes for findings"),
    "undo": ("tui.commands.undo", "undo the last change devops-tui applied"),
    "dupes": ("tui.commands.dupes", "find copy-pasted infrastructure and the abstraction for it"),
    "layers": ("tui.commands.layers", "analyse a Docker image's layers: waste, efficiency, hints"),
    "ask": ("tui.commands.ask", "ask the DevOps agent a question; proposals are written as patches"),
}

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _available() -> dict[str, tuple[str, str]]:
    found = {}
    for name, (module, help_text) in SUBCOMMANDS.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = (module, help_text)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devops-tui",
        description="Open a repository's infrastructure in a terminal workbench, or run a headless job.",
        epilog="Run 'devops-tui COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"devops-tui {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo repository")
    parser.add_argument("path", nargs="?", default=None, help="repository to open (default: current folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available()
    if argv and argv[0] in commands:
        module_name, help_text = commands[argv[0]]
        module = importlib.import_module(module_name)
        sub = argparse.ArgumentParser(prog=f"devops-tui {argv[0]}", description=help_text)
        module.add_arguments(sub)
        args = sub.parse_args(argv[1:])
        try:
            code = int(module.run(args))
            sys.stdout.flush()
            return code
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # The reader went away (`devops-tui scan | head`): stop quietly, like any Unix filter; the
            # interpreter's own flush at exit must not write to the closed pipe again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141  # 128 + SIGPIPE, what a shell reports for a filter killed by the signal
    parser = build_parser()
    if commands:
        parser.epilog = "commands:\n" + "\n".join(
            f"  {name:<8} {help_text}" for name, (_, help_text) in commands.items()
        ) + "\n\n" + (parser.epilog or "")
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    args = parser.parse_args(argv)
    return run_app(args)


def run_app(args: argparse.Namespace) -> int:
    """Start the Textual app on the chosen folder."""
    from core.discovery import DiscoveryError

    if args.demo:
        from core.demo import make_demo_repo

        root = make_demo_repo()
    else:
        root = Path(args.path or os.getcwd())
    if not root.exists():
        print(f"devops-tui: {root}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR
    if not root.is_dir():
        print(f"devops-tui: {root}: not a folder", file=sys.stderr)
        return EXIT_ERROR
    from concurrent.futures import ThreadPoolExecutor

    from core.config import load_config_or_default
    from core.discovery import build_index

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="listing")
    # List the files while Textual loads: the tree is ready when the first frame is.
    listing = pool.submit(lambda: build_index(root, parse=False, config=load_config_or_default(root)[0]))
    from tui.app import DevopsApp

    try:
        DevopsApp(root, listing=listing).run()
    except DiscoveryError as exc:
        print(f"devops-tui: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
