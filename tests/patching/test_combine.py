"""Combining quick fixes made against the same file: merged when apart, refused when they overlap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.patching import Producer, Proposal, Safety, apply_proposal, make_modify
from core.patching.combine import EditConflict, combine_proposals

DOCKERFILE = "FROM alpine:latest\nRUN apk add curl\nCOPY . /app\nCMD [\"/app/run\"]\n"


def _fix(root: Path, title: str, new: str) -> Proposal:
    return Proposal(title, "why", Producer.QUICK_FIX, (make_modify(root, "Dockerfile", new),),
                    (f"fp-{title}",), (title,), Safety.SAFE)


def test_separate_changes_merge_and_apply(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"Dockerfile": DOCKERFILE})
    pin = _fix(root, "DL3007", DOCKERFILE.replace("latest", "3.19"))
    user = _fix(root, "DL3002", DOCKERFILE.replace("CMD", "USER app\nCMD"))
    same = _fix(root, "DL3007b", DOCKERFILE.replace("latest", "3.19"))
    combined = combine_proposals([pin, user, same], "quick fixes")
    assert combined.rule_ids == ("DL3007", "DL3002", "DL3007b") and combined.safety is Safety.SAFE
    apply_proposal(root, combined)
    assert (root / "Dockerfile").read_text() == (
        "FROM alpine:3.19\nRUN apk add curl\nCOPY . /app\nUSER app\nCMD [\"/app/run\"]\n")


def test_overlapping_changes_conflict(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"Dockerfile": DOCKERFILE})
    one = _fix(root, "a", DOCKERFILE.replace("latest", "3.19"))
    two = _fix(root, "b", DOCKERFILE.replace("latest", "3.20"))
    with pytest.raises(EditConflict, match="Dockerfile: two proposals change lines 1-1"):
        combine_proposals([one, two], "x")
    ins_a = _fix(root, "c", DOCKERFILE.replace("CMD", "USER a\nCMD"))
    ins_b = _fix(root, "d", DOCKERFILE.replace("CMD", "USER b\nCMD"))
    with pytest.raises(EditConflict):
        combine_proposals([ins_a, ins_b], "x")
