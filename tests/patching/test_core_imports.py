"""The patch engine is plain Python: importing it (and the undo command) never loads Textual or Rich."""

from __future__ import annotations

import subprocess
import sys


def test_patching_and_undo_command_do_not_import_textual_or_rich() -> None:
    code = (
        "import sys, core.patching, core.patching.combine, tui.commands.undo\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
