"""The engine stays headless: importing any `core` module must not load Textual or Rich.

Each module is imported in a fresh interpreter, because one test process has long since imported
the UI for other tests.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))
"""


def core_modules() -> list[str]:
    names = ["core"]
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        if ".demo.repo" not in info.name:
            names.append(info.name)
    return sorted(names)


def test_core_has_modules() -> None:
    assert {"core.discovery", "core.models", "core.parsing"} <= set(core_modules())


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_import_ui(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_probe_detects_ui_imports() -> None:
    """The probe itself works: a UI module does pull in Textual."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "tui.widgets.file_view"], capture_output=True, text=True, cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "textual" in json.loads(result.stdout.strip().splitlines()[-1])
