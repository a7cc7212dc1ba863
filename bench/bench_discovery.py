"""Time discovery (list + read + classify + parse) on a corpus, against git and the physical floor.

`python -m bench.bench_discovery CORPUS [--runs N]` prints the best of N cold runs of
`core.discovery.build_index` (a fresh ParseCache each time), a warm re-index with the cache kept, the
file counts by kind (checked against the corpus's `manifest.json` when there is one), and ratios against
`git ls-files` on the same tree and against the floor of reading every listed file once.
Exit code 1 if classification disagrees with the manifest, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core.discovery import DiscoveryError, InfraIndex, build_index
from core.parsing import ParseCache

T = TypeVar("T")
TARGET_SECONDS = 2.0


def best_of(runs: int, work: Callable[[], T]) -> tuple[float, T, float]:
    """The fastest wall time of `runs` calls, the last result, and the least CPU time of this process.

    CPU time is printed beside wall time because the machine may be shared: it is what the work costs.
    """
    best = cpu = float("inf")
    result: T | None = None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    assert result is not None
    return best, result, cpu


def git_ls_files(root: Path) -> list[str]:
    output = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    return [p for p in output.decode("utf-8", "surrogateescape").split("\0") if p]


def read_all(root: Path, paths: list[str]) -> int:
    """The floor: open and read every file once; returns the bytes read."""
    total = 0
    for rel in paths:
        try:
            with open(os.path.join(root, rel), "rb") as handle:
                total += len(handle.read())
        except OSError:
            pass
    return total


def compare_with_manifest(index: InfraIndex, root: Path) -> list[str]:
    """Files whose kind differs from the one the generator planned (empty when no manifest)."""
    path = root / "manifest.json"
    if not path.is_file():
        return []
    expected: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["files"]
    wrong = []
    for rel, kind in sorted(expected.items()):
        file = index.files.get(rel)
        got = file.kind.value if file else "missing"
        if got != kind:
            wrong.append(f"{rel}: expected {kind}, got {got}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_discovery",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a repository or folder, e.g. one made by bench.gen_corpus")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the best is reported (default 5)")
    args = parser.parse_args(argv)
    root: Path = args.corpus.expanduser().absolute()
    runs = max(1, args.runs)
    try:
        build_index(root)  # warm the OS page cache so every run sees the same conditions
    except DiscoveryError as exc:
        print(f"bench_discovery: {exc}", file=sys.stderr)
        return 2
    cold, index, cold_cpu = best_of(runs, lambda: build_index(root, cache=ParseCache()))
    cache = ParseCache()
    build_index(root, cache=cache)
    warm, _, warm_cpu = best_of(runs, lambda: build_index(root, cache=cache))
    listed = [*index.files, *(s.path for s in index.skipped)]
    git_time = best_of(runs, lambda: git_ls_files(root))[0] if index.repo.is_git else None
    floor, size, _ = best_of(runs, lambda: read_all(root, listed))

    kinds = Counter(f.kind.value for f in index.files.values())
    infra = sum(1 for f in index.files.values() if f.kind.is_infra)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"corpus      {root}  ({'git' if index.repo.is_git else 'plain folder'}, {os.cpu_count()} cores, "
          f"load average {load})")
    print(f"files       {len(index.files):,} kept ({infra:,} infra), {len(index.skipped):,} skipped, "
          f"{size / 1e6:.1f} MB")
    print("by kind     " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
    verdict = "OK" if cold <= TARGET_SECONDS else f"SLOWER than the {TARGET_SECONDS:.0f} s target"
    print(f"build_index {cold:.3f} s wall, {cold_cpu:.3f} s CPU, best of {runs} cold runs "
          f"({len(index.files) / cold:,.0f} files/s): {verdict}")
    print(f"  warm      {warm:.3f} s wall, {warm_cpu:.3f} s CPU, with an unchanged ParseCache "
          f"({cold / warm:.1f}x faster)")
    if git_time is not None:
        print(f"  vs git    git ls-files {git_time:.3f} s -> discovery is {cold / git_time:.1f}x")
    print(f"  vs floor  reading every file once {floor:.3f} s -> discovery is {cold / floor:.1f}x")
    wrong = compare_with_manifest(index, root)
    if (root / "manifest.json").is_file():
        print(f"manifest    {'all kinds as planned' if not wrong else f'{len(wrong)} files misclassified'}")
        for line in wrong[:20]:
            print(f"  {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
