"""Rules of grouping and naming: every kind of group has a stable rule ID, a title and a sentence for its
abstraction (text, JSON and SARIF never fall back to internal names); a unit smaller than the minimum
still groups when it is pasted everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from core.discovery import build_index
from core.dupes.groups import ABSTRACTIONS, SEQUENCE_CATEGORIES, WHOLE_CATEGORIES
from core.dupes.report import ABSTRACTION_TEXT, CATEGORY_RULES, UNIT_NOUNS
from core.dupes.scan import find_clones


def test_every_category_has_a_rule_and_every_abstraction_a_sentence() -> None:
    categories = set(SEQUENCE_CATEGORIES.values()) | set(WHOLE_CATEGORIES)
    assert categories == set(ABSTRACTIONS)
    assert categories <= set(CATEGORY_RULES)
    assert set(SEQUENCE_CATEGORIES.values()) <= set(UNIT_NOUNS)
    assert {a for pair in ABSTRACTIONS.values() for a in pair} <= set(ABSTRACTION_TEXT)
    ids = [rule for rule, _title in CATEGORY_RULES.values()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"DT-U\d{3}", rule) for rule in ids)


def test_a_small_function_pasted_everywhere_is_a_group(make_repo: Callable[..., Path]) -> None:
    script = '#!/bin/sh\nset -eu\nlog() {{\n  echo "[deploy] $*" >&2\n}}\nlog "deploying {n}"\n'
    many = make_repo({f"svc{n}/deploy.sh": script.format(n=n) for n in range(14)})
    groups = [c for c in find_clones(build_index(many)) if c.category == "shell-function"]
    assert len(groups) == 1 and groups[0].copies == 14 and groups[0].lines_each == 3
    few = make_repo({f"svc{n}/deploy.sh": script.format(n=n) for n in range(3)})
    assert not [c for c in find_clones(build_index(few)) if c.category == "shell-function"]


WORKFLOW = """\
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
          cache: pip
      - name: Install
        run: pip install -r {name}/requirements.txt
      - name: Test
        run: pytest -q {name}/tests
"""


def test_inputs_are_named_for_the_word_their_values_share(make_repo: Callable[..., Path]) -> None:
    names = ("api", "web", "worker")
    root = make_repo({f".github/workflows/{n}.yml": WORKFLOW.format(name=n) for n in names})
    steps = [c for c in find_clones(build_index(root), min_lines=2) if c.category == "gha-steps"]
    assert len(steps) == 1
    assert {p.name: p.values for p in steps[0].parameters} == {
        "requirements": ("api/requirements.txt", "web/requirements.txt", "worker/requirements.txt"),
        "tests": ("api/tests", "web/tests", "worker/tests"),
    }


def test_every_proposer_serves_a_group_the_scan_can_report() -> None:
    from core.dupes.propose import PROPOSERS

    reported = {(category, abstraction) for category, pair in ABSTRACTIONS.items() for abstraction in pair}
    assert set(PROPOSERS) <= reported  # no proposer waits for a pairing the grouping never makes
    manual = {category for category, _ in reported - set(PROPOSERS)}
    assert manual == {"env-keys", "k8s-manifest"}  # shown for manual work, by design
