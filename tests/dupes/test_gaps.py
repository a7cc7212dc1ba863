"""Near-miss groups: step runs equal apart from an inserted, missing or replaced step are one group, and
the composite action they become keeps the optional step behind a flag each caller passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from core.discovery import build_index
from core.dupes.gaps import MAX_GAP
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.report import render_json, render_sarif, render_text
from core.dupes.scan import find_clones
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, to_python
from tui.widgets.dupes_panel import copy_text

HEAD = """\
name: {name}
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
"""
STEPS = {
    "A": "      - name: Check out\n        uses: actions/checkout@v4\n",
    "B": "      - name: Set up Python\n        uses: actions/setup-python@v5\n        with:\n"
         "          python-version: '{version}'\n",
    "C": "      - name: Install\n        run: |\n          python -m pip install --upgrade pip\n"
         "          pip install -r requirements.txt\n",
    "D": "      - name: Test\n        run: pytest -q --maxfail=1\n",
    "E": "      - name: Upload coverage\n        uses: codecov/codecov-action@v4\n        with:\n"
         "          files: coverage.xml\n",
    "X": "      - name: Lint\n        run: ruff check .\n",
    "Y": "      - name: Type check\n        run: mypy src\n",
    "Z": "      - name: Audit\n        run: pip-audit --strict\n",
    "F": "      - name: Notify\n        run: echo done\n",
    "G": "      - name: Only on main\n        if: ${{{{ github.ref == 'refs/heads/main' }}}}\n"
         "        run: echo deploying\n",
}
VERSIONS = ("3.11", "3.12", "3.10")


def _workflow(name: str, steps: str, version: str) -> str:
    return HEAD.format(name=name) + "".join(STEPS[s].format(version=version) for s in steps)


def _repo(make_repo: Callable[..., Path], *sequences: str) -> Path:
    names = ("one", "two", "three", "four")
    return make_repo({f".github/workflows/{names[n]}.yml": _workflow(names[n], seq, VERSIONS[n % 3])
                      for n, seq in enumerate(sequences)})


def _step_groups(root: Path) -> list[DuplicateCluster]:
    return [c for c in find_clones(build_index(root)) if c.category == "gha-steps"]


def _only_group(root: Path) -> DuplicateCluster:
    groups = _step_groups(root)
    assert len(groups) == 1, [(c.units_each, c.occurrences, c.gaps) for c in groups]
    return groups[0]


def test_an_inserted_step_gives_one_near_miss_group(make_repo):
    root = _repo(make_repo, "ABXCDE", "ABCDE", "ABCDE")
    cluster = _only_group(root)
    assert [o.path.rsplit("/", 1)[1] for o in cluster.occurrences] == ["one.yml", "three.yml", "two.yml"]
    assert cluster.units_each == 5 and not cluster.exact
    assert [o.length for o in cluster.occurrences] == [6, 5, 5]
    extra = [g for g in cluster.gaps if g.kind == "extra"]
    assert [(g.occurrence, g.position, g.after, g.line, g.end_line) for g in extra] == [(0, 2, 2, 13, 14)]
    assert "Lint" in extra[0].label
    missing = [g for g in cluster.gaps if g.kind == "missing"]
    assert [(g.occurrence, g.line) for g in missing] == [(1, 12), (2, 12)]
    [param] = cluster.parameters
    assert param.name == "python-version" and param.values == ("3.11", "3.10", "3.12")
    # lines_each counts only the shared steps: the two-line Lint step is not part of it
    assert cluster.lines_each == 16 and cluster.occurrences[0].lines == 18


def test_a_missing_step_gives_one_near_miss_group(make_repo):
    root = _repo(make_repo, "ABCDE", "ABDE")
    cluster = _only_group(root)
    assert cluster.units_each == 4 and [o.length for o in cluster.occurrences] == [5, 4]
    assert [(g.occurrence, g.kind) for g in cluster.gaps] == [(0, "extra"), (1, "missing")]
    assert all("Install" in g.label for g in cluster.gaps)
    assert cluster.parameters[0].values == ("3.11", "3.12")


def test_a_replaced_step_gives_one_group_but_no_proposal(make_repo):
    root = _repo(make_repo, "ABXDE", "ABCDE")
    cluster = _only_group(root)
    assert sorted((g.occurrence, g.kind) for g in cluster.gaps) == [(0, "replaced"), (1, "replaced")]
    with pytest.raises(NotProposable, match="different steps in the same place"):
        propose_abstraction(cluster, build_index(root))


def test_different_extra_steps_in_one_place_are_not_proposed(make_repo):
    root = _repo(make_repo, "ABXCDE", "ABYCDE", "ABCDE")
    cluster = _only_group(root)
    assert {g.kind for g in cluster.gaps} == {"extra"}  # the third copy has neither
    with pytest.raises(NotProposable, match="different extra steps"):
        propose_abstraction(cluster, build_index(root))


def test_two_gaps_and_a_two_step_gap_merge(make_repo):
    root = _repo(make_repo, "ABXYCDZEF", "ABCDEF")
    cluster = _only_group(root)
    assert cluster.units_each == 6 and cluster.occurrences[0].length == 9
    assert sorted({g.after for g in cluster.gaps}) == [2, 4]
    assert len([g for g in cluster.gaps if g.kind == "extra"]) == 3


def test_a_gap_larger_than_the_limit_is_not_merged(make_repo):
    inserted = "XYZ"[: MAX_GAP + 1]
    root = _repo(make_repo, f"AB{inserted}CDE", "ABCDE")
    assert all(not c.gaps for c in find_clones(build_index(root), min_lines=1))


def test_runs_in_different_containers_are_not_merged(make_repo):
    split = HEAD.format(name="one") + STEPS["A"] + STEPS["B"].format(version="3.11") + STEPS["X"] + \
        "  other:\n    runs-on: ubuntu-latest\n    steps:\n" + STEPS["C"] + STEPS["D"] + STEPS["E"]
    root = make_repo({".github/workflows/one.yml": split,
                      ".github/workflows/two.yml": _workflow("two", "ABCDE", "3.12")})
    clusters = find_clones(build_index(root), min_lines=1)
    assert clusters and all(not c.gaps for c in clusters)


def test_reports_say_where_the_gaps_are(make_repo):
    root = _repo(make_repo, "ABXCDE", "ABCDE")
    cluster = _only_group(root)
    text = render_text([cluster])
    assert "lines (near miss: 2 gap(s))" in text.splitlines()[0]
    assert "copy 1 has an extra step at line 13: step 3 (Lint)" in text
    assert "copy 2 is missing a step after line 12: step 3 (Lint)" in text
    group = json.loads(render_json([cluster]))["groups"][0]
    assert [(g["kind"], g["path"], g["line"]) for g in group["gaps"]] == [
        ("extra", ".github/workflows/one.yml", 13), ("missing", ".github/workflows/two.yml", 12)]
    result = json.loads(render_sarif([cluster]))["runs"][0]["results"][0]
    assert "Near miss: copy 1 has an extra step at line 13" in result["message"]["text"]


def test_the_copy_view_marks_extra_lines_and_missing_steps(make_repo):
    root = _repo(make_repo, "ABXCDE", "ABCDE")
    cluster = _only_group(root)
    index = build_index(root)
    for number, occurrence in enumerate(cluster.occurrences):
        lines = index.parsed[occurrence.path].text.split("\n")
        shown = copy_text(occurrence, lines, [], [g for g in cluster.gaps if g.occurrence == number]).plain
        if number == 0:
            assert "13 + " in shown and "14 + " in shown and "12 │ " in shown and "missing" not in shown
        else:
            assert "missing here: step 3 (Lint)" in shown and " + " not in shown


def _calls(root: Path, path: str) -> list[dict[str, object]]:
    docs, problem = compose_documents((root / path).read_text())
    assert problem is None and docs
    return [s for s in to_python(get(get(docs[0], "jobs"), "build"))["steps"]]


def test_the_proposal_applies_and_each_caller_passes_its_flag(make_repo):
    root = _repo(make_repo, "ABXCDE", "ABCDE", "ABCDE")
    cluster = _only_group(root)
    proposal = propose_abstraction(cluster, build_index(root))
    apply_proposal(root, proposal)

    action_path = root / ".github/actions/checkout-setup-python/action.yml"
    docs, problem = compose_documents(action_path.read_text())
    assert problem is None
    action = to_python(docs[0])
    assert action["inputs"]["include-lint"] == {"description": "run 'Lint' (only some callers had it)",
                                                "required": False, "default": "false"}
    steps = action["runs"]["steps"]
    assert [s.get("name") for s in steps] == ["Check out", "Set up Python", "Lint", "Install", "Test",
                                              "Upload coverage"]
    assert steps[2]["if"] == "inputs.include-lint == 'true'" and steps[2]["shell"] == "bash"
    assert steps[1]["with"]["python-version"] == "${{ inputs.python-version }}"

    for path, version, flag in (("one", "3.11", True), ("two", "3.12", False), ("three", "3.10", False)):
        [call] = _calls(root, f".github/workflows/{path}.yml")
        assert call["uses"] == "./.github/actions/checkout-setup-python"
        expected = {"python-version": version, **({"include-lint": "true"} if flag else {})}
        assert call["with"] == expected
    assert _step_groups(root) == []


def test_an_optional_step_keeps_its_own_condition(make_repo):
    root = _repo(make_repo, "ABCGDE", "ABCDE")
    cluster = _only_group(root)
    proposal = propose_abstraction(cluster, build_index(root))
    apply_proposal(root, proposal)
    action = to_python(compose_documents(
        (root / ".github/actions/checkout-setup-python/action.yml").read_text())[0][0])
    guarded = action["runs"]["steps"][3]
    assert guarded["if"] == "inputs.include-only-on-main == 'true' && (github.ref == 'refs/heads/main')"
    [call] = _calls(root, ".github/workflows/one.yml")
    assert call["with"]["include-only-on-main"] == "true"
    assert _step_groups(root) == []


def test_near_miss_script_lines_split_too_finely_are_refused(make_repo):
    lines = ["apt-get update", "pip install tox", "tox -e py311", "coverage report", "twine check dist/*"]
    job = "{name}:\n  script:\n{body}\n"
    with_lint = [*lines[:2], "ruff check .", *lines[2:]]
    root = make_repo({".gitlab-ci.yml": job.format(name="a", body="".join(f"    - {x}\n" for x in with_lint))
                      + job.format(name="b", body="".join(f"    - {x}\n" for x in lines))})
    clusters = [c for c in find_clones(build_index(root), min_lines=3) if c.category == "gitlab-script"]
    assert len(clusters) == 1 and clusters[0].gaps
    with pytest.raises(NotProposable, match="save no lines"):  # 2 + 3 lines around the gap
        propose_abstraction(clusters[0], build_index(root))
