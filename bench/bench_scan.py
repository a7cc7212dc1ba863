"""Time the full security scan on a corpus, beside hadolint, zizmor, checkov and detect-secrets.

`python -m bench.bench_scan CORPUS [--runs N] [--no-peers]` prints our time (discovery + every rule, the
same work as `devops-tui scan`), the planted problems we find (from the corpus's manifest.json), and each
peer's time on the same files with the ratio to ours. Peers are installed into bench/out/peers-venv on
first use (PyPI packages; never project dependencies); a peer that cannot be installed is skipped.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.peers import corpus_args, ensure_python_peer
from core.discovery import InfraIndex, build_index
from core.models import FileKind
from core.parsing import ParseCache
from core.scan import scan_index

TARGET_SECONDS = 10.0


def ours(corpus: Path, runs: int) -> tuple[float, list, InfraIndex]:
    """Best time of `runs` cold scans (discovery included), the findings and the index of the last."""
    best, findings, index = float("inf"), [], None
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        index = build_index(corpus, cache=ParseCache())
        findings = scan_index(index)
        best = min(best, time.perf_counter() - start)
    assert index is not None
    return best, findings, index


def recall(corpus: Path, findings: list) -> dict[str, tuple[int, int]]:
    manifest = corpus / "manifest.json"
    if not manifest.exists():
        return {}
    planted = json.loads(manifest.read_text())["problems"]
    by_place: dict[tuple[str, int], set[str]] = {}
    by_file: set[str] = set()
    for f in findings:
        by_file.add(f.path)
        for line in range(f.position.line, f.position.last_line + 1):
            by_place.setdefault((f.path, line), set()).add(f.rule_id)
    result: dict[str, list[int]] = {}
    for problem in planted:
        # found = some finding covers the planted line (the manifest does not name our rule IDs);
        # problems planted at line 1 describe the whole file (e.g. no `permissions:` anywhere)
        hit = bool(by_place.get((problem["path"], problem["line"])))
        hit = hit or (problem["line"] == 1 and problem["path"] in by_file)
        counts = result.setdefault(problem["type"], [0, 0])
        counts[0] += hit
        counts[1] += 1
    return {k: (v[0], v[1]) for k, v in result.items()}


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode


def peers(corpus: Path, index_paths: dict[FileKind, list[str]]) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    hadolint = ensure_python_peer("hadolint")
    if hadolint:
        files = index_paths[FileKind.DOCKERFILE]
        seconds, _ = timed([str(hadolint), "--no-fail", "-f", "json", *files], corpus)
        rows.append(("hadolint", seconds, f"{len(files)} Dockerfiles"))
    zizmor = ensure_python_peer("zizmor")
    if zizmor:
        seconds, _ = timed([str(zizmor), "--offline", "--no-exit-codes", "--format", "json", "."], corpus)
        rows.append(("zizmor", seconds, "workflows + actions, offline"))
    secrets = ensure_python_peer("detect-secrets")
    if secrets:
        seconds, _ = timed([str(secrets), "scan", "--all-files", "."], corpus)
        rows.append(("detect-secrets", seconds, "every file"))
    checkov = ensure_python_peer("checkov")
    if checkov:
        seconds, _ = timed([str(checkov), "-d", ".", "--quiet", "--compact", "-o", "json",
                            "--framework", "dockerfile", "kubernetes", "github_actions", "secrets"], corpus)
        rows.append(("checkov", seconds, "dockerfile, kubernetes, github_actions, secrets"))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = corpus_args(argv, __doc__ or "", "bench_scan")
    if args is None:
        return 2
    seconds, findings, index = ours(args.corpus, args.runs)
    kinds: dict[FileKind, list[str]] = {k: [] for k in FileKind}
    for file in index.files.values():
        kinds[file.kind].append(file.path)
    verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
    print(f"devops-tui scan: {seconds:.2f} s for {len(index.files)} files, {len(findings)} findings "
          f"(best of {args.runs}; target < {TARGET_SECONDS:.0f} s: {verdict})")
    top = Counter(f.rule_id for f in findings).most_common(8)
    print("  most frequent rules: " + ", ".join(f"{r} {n}" for r, n in top))
    for kind, (hit, total) in sorted(recall(args.corpus, findings).items()):
        print(f"  planted {kind:<20} found {hit}/{total}")
    if args.no_peers:
        return 0
    for name, peer_seconds, scope in peers(args.corpus, kinds):
        print(f"{name:<15} {peer_seconds:7.2f} s  ({scope}); ratio to ours: {peer_seconds / seconds:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
