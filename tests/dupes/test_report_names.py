"""Every kind of group the scan can report has a stable rule ID, a title and a sentence for its
abstraction, so text, JSON and SARIF never fall back to internal names."""

from __future__ import annotations

import re

from core.dupes.groups import ABSTRACTIONS, SEQUENCE_CATEGORIES, WHOLE_CATEGORIES
from core.dupes.report import ABSTRACTION_TEXT, CATEGORY_RULES, UNIT_NOUNS


def test_every_category_has_a_rule_and_every_abstraction_a_sentence() -> None:
    categories = set(SEQUENCE_CATEGORIES.values()) | set(WHOLE_CATEGORIES)
    assert categories == set(ABSTRACTIONS)
    assert categories <= set(CATEGORY_RULES)
    assert set(SEQUENCE_CATEGORIES.values()) <= set(UNIT_NOUNS)
    assert {a for pair in ABSTRACTIONS.values() for a in pair} <= set(ABSTRACTION_TEXT)
    ids = [rule for rule, _title in CATEGORY_RULES.values()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"DT-U\d{3}", rule) for rule in ids)
