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
