"""core.layers must stay free of Textual and Rich, and the headless command must not load them."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = ["core.layers", "core.layers.ci", "core.layers.export", "tui.commands.layers"]


@pytest.mark.parametrize("module", MODULES)
def test_no_textual_or_rich(module: str) -> None:
    code = (f"import sys, {module}; bad = [m for m in ('textual', 'rich') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
