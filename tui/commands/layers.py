"""`devops-tui layers IMAGE|ARCHIVE|OCI-DIR`: layer table, biggest waste, efficiency, hints; CI gates.

Contract: exit 0 when the analysis ran (and, in CI mode, every rule passed), 1 when a CI rule failed,
2 when the analysis could not run (bad input, no engine for an image name, bad CI config). CI mode is
`--ci` or `CI=true` in the environment; rules come from `--ci-config`, else `./.dive-ci`, else dive's
defaults. `--image NAME|ID` picks one image of an archive holding several; `--list` prints the images
an archive or OCI layout holds and reads no layer. Never imports Textual or Rich.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.dockerfile import Dockerfile, parse_dockerfile
from core.layers.analysis import analyse_image
from core.layers.archive_images import ArchiveImage
from core.layers.ci import CiConfigError, CiOutcome, CiRules, evaluate, load_ci_rules
from core.layers.errors import LayerError
from core.layers.export import report_to_dict
from core.layers.hints import format_bytes
from core.layers.model import LayerReport
from core.layers.sources import list_images

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="local image name or id, a `docker save` archive or an OCI layout dir")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--ci", action="store_true", help="gate on .dive-ci rules (also when CI=true)")
    parser.add_argument("--ci-config", metavar="FILE", help="dive-style rules file (default: ./.dive-ci)")
    parser.add_argument("--dockerfile", metavar="FILE", help="map layers to this Dockerfile's lines")
    parser.add_argument("--metrics", choices=("ours", "dive"), default="ours",
                        help="which efficiency figures to show and gate on (default: ours)")
    parser.add_argument("--deep", action="store_true", help="hash file contents: exact copy-up, duplicates")
    parser.add_argument("--base-layers", type=int, metavar="N", help="the first N layers are the base image")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="waste events to list (default 10)")
    parser.add_argument("--image", metavar="NAME|ID",
                        help="in an archive holding several images, analyse this one (tag, or id prefix)")
    parser.add_argument("--list", action="store_true", help="list the images in an archive or OCI layout")


def _ci_enabled(args: argparse.Namespace) -> bool:
    return bool(args.ci) or os.environ.get("CI", "").strip().lower() == "true"


def _load_rules(args: argparse.Namespace) -> CiRules:
    path = Path(args.ci_config) if args.ci_config else Path(".dive-ci")
    if not args.ci_config and not path.is_file():
        return CiRules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CiConfigError(f"cannot read {path}: {exc.strerror}") from None
    return load_ci_rules(text, str(path))


def _load_dockerfile(args: argparse.Namespace) -> Dockerfile | None:
    path = Path(args.dockerfile) if args.dockerfile else Path("Dockerfile")
    if not args.dockerfile and not path.is_file():
        return None
    try:
        return parse_dockerfile(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise LayerError(f"cannot read {path}: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _run_list(args)
    ci = _ci_enabled(args)
    try:
        rules = _load_rules(args) if ci else None
        dockerfile = _load_dockerfile(args)
        report = analyse_image(
            args.target, dockerfile=dockerfile, deep=args.deep, dive=args.metrics == "dive" or args.json,
            base_layers=args.base_layers, image=args.image,
        )
    except (LayerError, CiConfigError) as exc:
        print(f"devops-tui layers: {exc}", file=sys.stderr)
        return EXIT_ERROR
    outcome = evaluate(report, rules, args.metrics) if rules is not None else None
    if args.json:
        data = report_to_dict(report, events=max(args.top, 0))
        if outcome is not None:
            data["ci"] = {"passed": outcome.passed,
                          "results": [{"rule": r.rule, "status": r.status, "message": r.message}
                                      for r in outcome.results]}
        print(json.dumps(data, indent=2))
    else:
        print(render_text(report, args.metrics, max(args.top, 0)))
        if outcome is not None:
            print(render_ci(outcome))
    if outcome is not None and not outcome.passed:
        return EXIT_FAIL
    return EXIT_OK


def _run_list(args: argparse.Namespace) -> int:
    path = Path(args.target)
    if not path.exists():
        print(f"devops-tui layers: --list needs an archive or OCI layout; {args.target} is neither",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        images = list_images(path)
    except LayerError as exc:
        print(f"devops-tui layers: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps([{"names": list(i.names), "ids": list(i.ids), "layers": i.layers} for i in images],
                         indent=2))
    else:
        print(render_image_list(str(path), images))
    return EXIT_OK


def render_image_list(where: str, images: list[ArchiveImage]) -> str:
    lines = [f"{_clean(where)} holds {len(images)} image{'s' if len(images) != 1 else ''}:"]
    for image in images:
        short = image.ids[0].partition(":")[2][:12] if image.ids else "?"
        plural = "" if image.layers == 1 else "s"
        layers = f"  {image.layers} layer{plural}" if image.layers is not None else ""
        also = f"  (also {', '.join(_clean(n) for n in image.names[1:])})" if len(image.names) > 1 else ""
        lines.append(f"  {_clean(image.label, 60):<40}  id {short}{layers}{also}")
    lines.append("Analyse one with: devops-tui layers ARCHIVE --image NAME (or an id prefix)")
    return "\n".join(lines)


def _clean(text: str, width: int | None = None) -> str:
    """Make names from an image safe to print: no control characters, bounded width."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def render_text(report: LayerReport, metrics: str = "ours", top: int = 10) -> str:
    base = f"{report.base_layers} ({'known' if report.base_known else 'assumed: the first layer'})"
    lines = [
        f"Image {_clean(report.image)} ({report.source}): {len(report.layers)} layers, base layers {base}",
        "",
        f"{'#':>3}  {'size':>9}  {'added':>6} {'mod':>5} {'del':>5}  {'wasted later':>12}  instruction",
    ]
    for layer in report.layers:
        where = f"L{layer.dockerfile_line} " if layer.dockerfile_line else ""
        tag = "(base) " if layer.is_base else ""
        lines.append(
            f"{layer.index:>3}  {format_bytes(layer.content_bytes):>9}  {layer.files_added:>6} "
            f"{layer.files_modified:>5} {layer.files_removed:>5}  "
            f"{format_bytes(layer.obsolete_later_bytes):>12}"
            f"  {tag}{where}{_clean(layer.instruction or '(unknown)', 70)}"
        )
    lines += [
        "",
        f"Efficiency {report.efficiency:.2%}: content {format_bytes(report.content_bytes)}, visible "
        f"{format_bytes(report.visible_bytes)}, wasted {format_bytes(report.wasted_bytes)} "
        f"({report.wasted_bytes} bytes), user wasted {report.user_wasted_percent:.2%}",
    ]
    if report.dive is not None:
        marker = " (used for CI)" if metrics == "dive" else ""
        lines.append(
            f"dive's figures{marker}: efficiency {report.dive.efficiency:.2%}, wasted "
            f"{format_bytes(report.dive.wasted_bytes)}, user wasted {report.dive.user_wasted_percent:.2%}"
        )
    events = report.biggest_events(top)
    if events:
        lines += ["", f"Biggest waste ({len(report.events)} events):"]
        for event in events:
            lines.append(
                f"  {format_bytes(event.bytes):>9}  {_clean(event.path, 70)}  {event.cause.value}: "
                f"written by layer {event.written_by}, hidden by layer {event.hidden_by}"
            )
    if report.duplicates:
        lines += ["", "Duplicate files (same content at different paths):"]
        for dup in report.duplicates[:top]:
            paths = ", ".join(_clean(p) for p in dup.paths[:4])
            lines.append(f"  {format_bytes(dup.wasted_bytes):>9}  {paths}")
    if report.hints:
        lines += ["", "Hints:"]
        for hint in report.hints:
            where = f"layer {hint.layer}" if hint.layer is not None else "image"
            if hint.dockerfile_line:
                where += f", Dockerfile line {hint.dockerfile_line}"
            lines.append(f"  [{hint.rule}] {where}: {_clean(hint.message)}")
            if hint.suggestion:
                lines.append(f"      fix: {hint.suggestion}")
    for note in report.notes:
        lines.append(f"note: {note}")
    if report.images:
        lines.append(f"note: {len(report.images)} images in this archive: --list shows them, "
                     "--image NAME (or an id prefix) analyses one")
    return "\n".join(lines)


def render_ci(outcome: CiOutcome) -> str:
    lines = ["", "CI rules:"]
    for result in outcome.results:
        lines.append(f"  {result.status.upper():<4}  {result.rule}: {result.message}")
    lines.append(f"Result: {'PASS' if outcome.passed else 'FAIL'}")
    return "\n".join(lines)
