"""The wheel carries what the app needs at run time: prompts, the stylesheet, the demo repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Build the wheel once from a copy of the sources (the checkout stays untouched)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist", ".mypy_cache",
                                    ".ruff_cache", ".pytest_cache", "tests", "bench")
    for item in ROOT.iterdir():
        if item.is_dir():
            if item.name in ("core", "tui", "prompts"):
                shutil.copytree(item, src / item.name, ignore=ignore, symlinks=True)
        elif item.name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
            shutil.copy2(item, src / item.name)
    if not (src / "README.md").exists():
        (src / "README.md").write_text("devops-tui\n")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-w", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("devops_tui-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as archive:
        return set(archive.namelist())


def test_wheel_has_packages_and_stylesheet(wheel_names: set[str]) -> None:
    needed = ("core/discovery.py", "tui/app.py", "tui/app.tcss", "tui/screens/main.py", "prompts/__init__.py")
    for name in needed:
        assert name in wheel_names


def test_wheel_has_prompts(wheel_names: set[str]) -> None:
    shipped = {p for p in (ROOT / "prompts").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    expected = {p.relative_to(ROOT).as_posix() for p in shipped}
    assert expected, "prompts/ is empty"
    assert expected <= wheel_names, sorted(expected - wheel_names)


def test_wheel_has_demo_repository(wheel_names: set[str]) -> None:
    demo = ROOT / "core" / "demo" / "repo"
    if not demo.is_dir():
        pytest.skip("core/demo/repo does not exist yet")
    found = [p for p in demo.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files = {p.relative_to(ROOT).as_posix() for p in found}
    assert files, "core/demo/repo is empty"
    missing = sorted(files - wheel_names)
    assert not missing, f"demo files missing from the wheel: {missing[:20]}"
