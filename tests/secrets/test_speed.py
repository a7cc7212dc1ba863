"""Secret detection stays cheap enough for 10,000-file repositories (a generous guard, not a benchmark)."""

from __future__ import annotations

import time

from core.secrets import find_secrets
from tests.secrets.planted import planted_files


def test_two_thousand_files_well_under_the_budget() -> None:
    files = list(planted_files().items())
    clean = [
        (f"src/mod{i}.py", "import os\n\ndef handler(event):\n    return os.environ['KEY']\n" * 20)
        for i in range(1996)
    ]
    corpus = files + clean
    start = time.perf_counter()
    found = sum(len(find_secrets(text, path)) for path, text in corpus)
    elapsed = time.perf_counter() - start
    assert found >= 4 * 40
    assert elapsed < 5.0, f"{len(corpus)} files took {elapsed:.2f}s"
