"""`devops-tui fix [PATH] [--rule ID ...] [--safe-only] [--diff | --apply] [--commit]`: quick fixes.

Scans the repository (configuration as for `scan`), fixes every finding of the selected rules that has a
quick fix — all of them as ONE proposal — and prints its unified diff (secret values masked; nothing is
written) or, with `--apply`, applies it atomically through the patch engine (undo with `devops-tui
undo`). Exit codes: 0 done or nothing to fix; 1 the apply was refused (the problems are printed);
2 usage, configuration or scan error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import ConfigError, load_config
from core.discovery import DiscoveryError, build_index
from core.fixes import NOT_OFFERED, fixable_rule_ids, plan_fixes
from core.patching import ApplyRefused, StaleFile, apply_proposal, unified_text
from core.rulesel import UnknownRule, resolve_rule_ids, scan_config
from core.scan import scan_index

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository, or a file or folder inside it")
    parser.add_argument("--rule", action="append", default=[], metavar="ID",
                        help="fix only this rule (ours or a peer ID such as DL3042); repeatable")
    parser.add_argument("--safe-only", action="store_true", help="skip fixes that need a person's review")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print the unified diff (the default)")
    mode.add_argument("--apply", action="store_true",
                      help="apply the fixes atomically (undo: devops-tui undo)")
    parser.add_argument("--commit", action="store_true", help="with --apply: commit the change with git")
    parser.add_argument("--config", type=Path, help="configuration file (default: nearest first)")


def _fail(message: str) -> int:
    print(f"devops-tui fix: {message}", file=sys.stderr)
    return EXIT_ERROR


def _locate(target: Path) -> tuple[Path, str | None]:
    """(repository root, repo-relative path filter) for a PATH that may be a file or a sub-folder."""
    folder = (target if target.is_dir() else target.parent).resolve()
    root = next((p for p in (folder, *folder.parents) if (p / ".git").exists()), folder)
    rel = target.resolve().relative_to(root).as_posix()
    return root, None if rel in ("", ".") else rel


def run(args: argparse.Namespace) -> int:
    if args.commit and not args.apply:
        return _fail("--commit needs --apply")
    target = Path(args.path)
    if not target.exists():
        return _fail(f"{target}: no such file or folder")
    try:
        root, only_path = _locate(target)
        config = load_config(root, args.config)
        selected = resolve_rule_ids(args.rule) if args.rule else None
        settings = scan_config(config, only=args.rule)
        index = build_index(root, config=config)
    except (ConfigError, UnknownRule, DiscoveryError, ValueError, OSError) as exc:
        return _fail(str(exc))
    findings = scan_index(index, settings)
    present = {f.rule_id for f in findings if only_path is None or f.path.startswith(only_path)}
    for rule_id in sorted((selected or present) & NOT_OFFERED.keys()):
        print(f"{rule_id}: {NOT_OFFERED[rule_id]}", file=sys.stderr)
    if selected is not None and not selected & (fixable_rule_ids() | NOT_OFFERED.keys()):
        print(f"no quick fix exists for {', '.join(sorted(selected))}", file=sys.stderr)
    plan = plan_fixes(findings, index, rule=selected, path=only_path, safe_only=args.safe_only)
    for skip in plan.skipped:
        where = f"{skip.path}:{skip.line}" if skip.line else skip.path
        print(f"skipped {skip.rule_id} at {where}: {skip.reason}", file=sys.stderr)
    proposal = plan.proposal
    if proposal is None:
        print("nothing to fix", file=sys.stderr)
        return EXIT_OK
    summary = f"{proposal.title} [{proposal.safety}]; {len(proposal.edits)} file(s) changed"
    if not args.apply:
        try:
            sys.stdout.write(unified_text(proposal, root))
        except StaleFile as exc:
            return _fail(str(exc))
        print(summary, file=sys.stderr)
        return EXIT_OK
    try:
        result = apply_proposal(root, proposal, commit=args.commit or config.commit_after_apply)
    except ApplyRefused as exc:
        print("devops-tui fix: the fixes were not applied:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.path}: {problem.message}" if problem.path else f"  {problem.message}",
                  file=sys.stderr)
        return EXIT_REFUSED
    print(summary)
    print(result.summary)
    for path in result.files:
        print(f"  changed {path}")
    return EXIT_OK
