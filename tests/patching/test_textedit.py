"""Text-edit helpers: spans placed by parse positions, insertions, and the only-span-changed check."""

from __future__ import annotations

import pytest

from core.patching.textedit import (
    EditCheckFailed,
    assert_only_span_changed,
    insert_after_line,
    newline_of,
    replace_span,
)
from core.yamlnodes import compose_documents, get, node_position

WORKFLOW = (
    "on: push\n"
    "jobs:\n"
    "  build:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "        # check out the code\n"
    "        - uses: actions/checkout@v4\n"
    "        - run: make\n"
)


def test_replace_span_from_parse_position_touches_only_the_value() -> None:
    docs, _ = compose_documents(WORKFLOW)
    step = docs[0].value[1][1].value[0][1]  # jobs.build
    uses = get(get(step, "steps").value[0], "uses")  # type: ignore[union-attr]
    pos = node_position(uses)
    pinned = "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4"
    new = replace_span(WORKFLOW, pos.line, pos.column, pos.last_line, pos.end_column or 1, pinned)
    assert new == WORKFLOW.replace("actions/checkout@v4", pinned)
    assert_only_span_changed(WORKFLOW, new, [(pos.line, pos.last_line)], yaml=True)


def test_replace_span_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="line 9"):
        replace_span("a\nb\n", 9, 1, 9, 1, "x")
    with pytest.raises(ValueError, match="column 5"):
        replace_span("ab\n", 1, 5, 1, 5, "x")
    with pytest.raises(ValueError, match="before it starts"):
        replace_span("abcd\n", 1, 3, 1, 2, "x")


def test_insert_after_line_keeps_crlf_and_missing_final_newline() -> None:
    assert insert_after_line("a\r\nb\r\n", 1, "x\ny") == "a\r\nx\r\ny\r\nb\r\n"
    assert insert_after_line("a\nb", 2, "c") == "a\nb\nc"
    assert insert_after_line("a\n", 0, "top") == "top\na\n"
    assert newline_of("a\r\nb\r\n") == "\r\n" and newline_of("a\nb\r\n") == "\r\n"
    assert newline_of("a\nb\nc\r\n") == "\n"


def test_only_span_changed_catches_stray_edits_and_broken_yaml() -> None:
    new = WORKFLOW.replace("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-24.04\n")
    assert_only_span_changed(WORKFLOW, new, [(4, 4)], yaml=True)
    reindented = new.replace("        - run: make\n", "    - run: make\n")
    with pytest.raises(EditCheckFailed, match="lines 8-8"):
        assert_only_span_changed(WORKFLOW, reindented, [(4, 4)])
    inserted = insert_after_line(WORKFLOW, 4, "    timeout-minutes: 10")
    assert_only_span_changed(WORKFLOW, inserted, [(4, 4)], yaml=True)
    with pytest.raises(EditCheckFailed, match="after line 4"):
        assert_only_span_changed(WORKFLOW, inserted, [(2, 2)])
    with pytest.raises(EditCheckFailed, match="breaks the YAML"):
        assert_only_span_changed(WORKFLOW, WORKFLOW.replace("run: make", "run: [make"), [(8, 8)], yaml=True)
