"""A pinned action keeps its readable version comment (`@<sha> # v4`) when its step moves into the
abstraction, so Dependabot and Renovate can still update it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.discovery import build_index
from core.dupes.propose import propose_abstraction
from core.dupes.scan import find_clones

CHECKOUT = "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11"
WORKFLOW = f"""\
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT} # v4.1.1
        with:
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r {{name}}/requirements.txt
      - run: pytest -q
"""


def test_composite_action_keeps_the_pin_comment(make_repo: Callable[..., Path]) -> None:
    root = make_repo({f".github/workflows/{n}.yml": WORKFLOW.format(name=n) for n in ("api", "web", "db")})
    index = build_index(root)
    steps = next(c for c in find_clones(index, min_lines=2) if c.category == "gha-steps")
    proposal = propose_abstraction(steps, index)
    action = proposal.edits[0]
    assert action.path.endswith("action.yml") and action.after is not None
    lines = action.after.decode().splitlines()
    assert f"    - uses: {CHECKOUT} # v4.1.1" in lines
    assert "    - uses: actions/setup-python@v5" in lines  # no comment where the copies had none
