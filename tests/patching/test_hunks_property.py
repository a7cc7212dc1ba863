"""Property: any subset of hunks applied and then undone gives back the original bytes exactly."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.patching import EditAction, FileEdit, Producer, Proposal, apply_proposal, file_diffs, undo_last
from core.patching.diff import make_hunks, rebuild, split_lines
from core.patching.proposal import sha256_bytes

WORDS = st.sampled_from(["a", "b", "c", "run: x", "  - y", "", "key: value", "é"])


@st.composite
def file_pair(draw: st.DrawFn) -> tuple[bytes, bytes, str]:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    old = draw(st.lists(WORDS, max_size=30))
    new = list(old)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        at = draw(st.integers(0, len(new)))
        if op == "insert":
            new.insert(at, draw(WORDS))
        elif new and at < len(new):
            if op == "delete":
                del new[at]
            else:
                new[at] = draw(WORDS)
    old_final, new_final = draw(st.booleans()), draw(st.booleans())

    def render(lines: list[str], final: bool) -> bytes:
        text = eol.join(lines) + (eol if final and lines else "")
        return text.encode()

    return render(old, old_final), render(new, new_final), eol


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=file_pair(), data=st.data())
def test_any_hunk_subset_applies_and_undoes_exactly(pair: tuple[bytes, bytes, str],
                                                    data: st.DataObject) -> None:
    before, after, eol = pair
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "f.txt").write_bytes(before)
        os.chmod(root / "f.txt", 0o640)
        edit = FileEdit("f.txt", EditAction.MODIFY, after, sha256_bytes(before), before)
        proposal = Proposal("p", "r", Producer.AGENT, (edit,))
        hunks = file_diffs(proposal, root)[0].hunks
        chosen = data.draw(st.sets(st.sampled_from(range(len(hunks)))) if hunks else st.just(set()))
        result = apply_proposal(root, proposal, {"f.txt": chosen})
        written = (root / "f.txt").read_bytes()
        assert written == rebuild(before, after, chosen)
        if chosen == set(range(len(hunks))):
            assert written == after
        if not chosen:
            assert written == before and result.files == ()
        if eol == "\r\n":  # every line ending stays CRLF
            assert all(line.endswith(b"\r\n") for line in split_lines(written)[:-1])
        if result.files:
            undo_last(root)
        assert (root / "f.txt").read_bytes() == before
        assert (root / "f.txt").stat().st_mode & 0o777 == 0o640


@given(pair=file_pair())
@settings(max_examples=200, deadline=None)
def test_all_hunks_give_after_and_none_give_before(pair: tuple[bytes, bytes, str]) -> None:
    before, after, _ = pair
    old, new = split_lines(before), split_lines(after)
    assert b"".join(old) == before and b"".join(new) == after
    count = len(make_hunks(old, new))
    assert rebuild(before, after, range(count)) == after
    assert rebuild(before, after, ()) == before
    for index in range(count):  # each hunk alone changes something
        assert rebuild(before, after, {index}) != before
