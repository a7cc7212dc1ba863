"""Time the duplication scan on a corpus and count the planted copy-paste groups it finds, beside jscpd.

`python -m bench.bench_dupes CORPUS [--runs N] [--no-peers]` prints our time (discovery excluded, as
the app runs it on the already-built index; discovery is printed apart), the groups we report, and for
every planted group of the corpus's manifest.json whether it was found: a planted group counts as found
when one reported group (ours) or one clone pair (jscpd) covers at least two of its members. jscpd is
installed from the npm registry into bench/out/jscpd on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.peers import corpus_args, ensure_jscpd
from core.discovery import build_index
from core.dupes import scan as dupes_scan
from core.dupes.scan import find_clones

TARGET_SECONDS = 5.0
Span = tuple[str, int, int]


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2]


def planted_found(manifest: dict, reported: list[list[Span]]) -> dict[str, bool]:
    """For each planted group: does one reported group touch two or more of its members?"""
    found: dict[str, bool] = {}
    for group in manifest.get("groups", []):
        members = [(m["path"], m["start_line"], m["end_line"]) for m in group["members"]]
        found[group["id"]] = any(
            sum(any(_overlaps(m, span) for span in spans) for m in members) >= 2 for spans in reported
        )
    return found


def run_jscpd(exe: Path, corpus: Path) -> tuple[float, list[list[Span]]]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([str(exe), "--silent", "--reporters", "json", "--output", out,
                        "--format", "yaml,bash,dockerfile", "--min-lines", "4", "--gitignore", "."],
                       capture_output=True, text=True, timeout=3600, cwd=corpus)
        seconds = time.perf_counter() - start
        report = Path(out) / "jscpd-report.json"
        if not report.exists():
            return seconds, []
        data = json.loads(report.read_text())
    pairs = []
    for dup in data.get("duplicates", []):
        spans = []
        for side in ("firstFile", "secondFile"):
            f = dup[side]
            raw = f["name"]
            name = os.path.normpath(os.path.relpath(raw, corpus) if os.path.isabs(raw) else raw)
            spans.append((name, int(f["start"]), int(f["end"])))
        pairs.append(spans)
    return seconds, pairs


def main(argv: list[str] | None = None) -> int:
    args = corpus_args(argv, __doc__ or "", "bench_dupes")
    if args is None:
        return 2
    start = time.perf_counter()
    index = build_index(args.corpus)
    print(f"discovery (not counted): {time.perf_counter() - start:.2f} s, {len(index.files)} files")
    best, clusters = float("inf"), []
    for _ in range(args.runs):
        dupes_scan._UNIT_CACHE.clear()  # cold: every file cut into units again
        start = time.perf_counter()
        clusters = find_clones(index)
        best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    find_clones(index)
    warm = time.perf_counter() - start
    verdict = "met" if best < TARGET_SECONDS else "MISSED"
    print(f"devops-tui dupes: {best:.2f} s cold (best of {args.runs}), {warm:.2f} s warm; "
          f"{len(clusters)} groups, {sum(c.lines_saved for c in clusters)} lines could go "
          f"(target < {TARGET_SECONDS:.0f} s: {verdict})")
    manifest_path = args.corpus / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    ours = planted_found(manifest, [[(o.path, o.start_line, o.end_line) for o in c.occurrences]
                                    for c in clusters])
    jscpd_found: dict[str, bool] | None = None
    if not args.no_peers and (exe := ensure_jscpd()) is not None:
        seconds, pairs = run_jscpd(exe, args.corpus)
        jscpd_found = planted_found(manifest, pairs)
        print(f"jscpd: {seconds:.2f} s, {len(pairs)} clone pairs; ratio to ours: {seconds / best:.1f}x")
    for group_id, hit in ours.items():
        peer = "" if jscpd_found is None else f"  jscpd: {'found' if jscpd_found[group_id] else 'missed'}"
        print(f"  planted {group_id:<32} ours: {'found' if hit else 'missed'}{peer}")
    total = len(ours)
    summary = f"planted groups found: ours {sum(ours.values())}/{total}"
    if jscpd_found is not None:
        summary += f", jscpd {sum(jscpd_found.values())}/{total}"
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
