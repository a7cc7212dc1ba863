"""`devops-tui dupes`: copy-pasted infrastructure, grouped, with the abstraction for each group.

Exit codes: 0 done (duplication is reported, never a failure); 2 the scan could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import ConfigError, load_config
from core.discovery import DiscoveryError, build_index
from core.dupes.report import render_json, render_sarif, render_text
from core.dupes.scan import find_clones


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository to scan (default: .)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--min-lines", type=int, default=4, metavar="N",
                        help="ignore copies shorter than N lines, unless their copies together reach 10*N "
                             "lines (default: 4)")
    parser.add_argument("--max-params", type=int, default=6, metavar="N",
                        help="drop groups whose abstraction needs more than N parameters (default: 6)")


def run(args: argparse.Namespace) -> int:
    root = Path(args.path)
    if args.min_lines < 1:
        print("devops-tui dupes: --min-lines must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_config(root)
        index = build_index(root, config=config)
    except (ConfigError, DiscoveryError) as exc:
        print(f"devops-tui dupes: {exc}", file=sys.stderr)
        return 2
    clusters = find_clones(index, min_lines=args.min_lines, max_params=args.max_params)
    render = {"text": render_text, "json": render_json, "sarif": render_sarif}[args.format]
    report = render(clusters)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return 0
