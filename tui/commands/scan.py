"""`devops-tui scan`: the security scan for CI — text, JSON or SARIF, with exit codes.

Exit codes: 0 no finding at or above `--fail-on`; 1 at least one; 2 the scan could not run
(no such folder, bad configuration, unreadable baseline).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.baseline import BaselineError, new_findings, read_baseline, write_baseline
from core.config import ConfigError, load_config
from core.discovery import DiscoveryError, build_index
from core.models import Severity
from core.reports.json_report import render_json
from core.reports.sarif import render_sarif
from core.reports.text import render_text
from core.rules.base import registered_rules
from core.rulesel import UnknownRule, scan_config
from core.scan import scan_index

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository to scan (default: .)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--fail-on", metavar="SEVERITY",
                        help="exit 1 when a finding at or above this severity remains (default: high, "
                             "or fail-on from the config; 'none' never fails)")
    parser.add_argument("--threshold", metavar="SEVERITY", help="do not report findings below this severity")
    parser.add_argument("--rule", action="append", default=[], metavar="ID",
                        help="run only this rule (ours or a peer ID such as DL3008); repeatable")
    parser.add_argument("--config", type=Path, help="configuration file (default: nearest first)")
    parser.add_argument("--baseline", type=Path, help="report only findings not in this baseline")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="record the current findings' fingerprints and exit 0")
    parser.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")


def _fail(message: str) -> int:
    print(f"devops-tui scan: {message}", file=sys.stderr)
    return EXIT_ERROR


def _list_rules() -> int:
    for rule in registered_rules().values():
        aliases = f"  [{', '.join(rule.aliases)}]" if rule.aliases else ""
        print(f"{rule.id}  {rule.severity.label:<8} {rule.title}{aliases}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        return _list_rules()
    root = Path(args.path)
    try:
        config = load_config(root, args.config)
        if args.threshold:
            Severity.parse(args.threshold)
            from dataclasses import replace

            config = replace(config, threshold=args.threshold)
        settings = scan_config(config, only=args.rule)
        fail_on = (args.fail_on or config.fail_on).lower()
        fail_level = None if fail_on in ("none", "never", "off") else Severity.parse(fail_on)
        known = read_baseline(args.baseline) if args.baseline else None
        index = build_index(root, config=config)
    except (ConfigError, UnknownRule, BaselineError, DiscoveryError, ValueError) as exc:
        return _fail(str(exc))
    findings = scan_index(index, settings, workers=os.cpu_count() or 1)
    if args.write_baseline:
        count = write_baseline(args.write_baseline, findings)
        print(f"wrote {count} fingerprints to {args.write_baseline}", file=sys.stderr)
        return EXIT_OK
    if known is not None:
        findings = new_findings(findings, known)
    rules = registered_rules()
    if args.format == "json":
        report = render_json(findings, rules, skipped=index.skipped)
    elif args.format == "sarif":
        active = {r.id: r for r in settings.active_rules()}
        report = render_sarif(findings, active)
    else:
        colour = args.output is None and sys.stdout.isatty() and not args.no_color
        report = render_text(findings, colour=colour, skipped=index.skipped)
    if args.output:
        try:
            args.output.write_text(report, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror}")
    else:
        sys.stdout.write(report)
    if fail_level is not None and any(f.severity >= fail_level for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK
