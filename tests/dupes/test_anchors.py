"""Identical jobs in one workflow become one anchored job and aliases — never a `<<` merge — and jobs
that differ in anything are not offered as anchors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.discovery import build_index
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, to_python

JOB = """\
    runs-on: ubuntu-latest
    # the same suite on every push
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
      - name: Tests
        run: |
          pip install -r requirements.txt
          pytest -q
        env:
          TOKEN: ${{{{ secrets.TOKEN }}}}
      - run: ./report.sh {arg}
"""
WORKFLOW = (
    "name: CI\non: [push]\njobs:\n"
    "  lint:\n    runs-on: ubuntu-latest\n    steps: [{{run: make lint}}]\n"
    "  test-a:  # first copy\n" + JOB + "\n"
    "  test-b:\n" + JOB.replace("{arg}", "{arg_b}") +
    "  # trailing comment stays\n"
    "  deploy:\n    needs: [test-a, test-b]\n    runs-on: ubuntu-latest\n    steps: [{{run: make deploy}}]\n"
)


def _repo(make_repo, text: str) -> Path:
    return make_repo({".github/workflows/ci.yml": text})


def _job_clusters(root: Path) -> list:
    return [c for c in find_clones(build_index(root)) if c.category == "gha-job"]


def test_identical_jobs_become_an_anchor_and_an_alias(make_repo):
    root = _repo(make_repo, WORKFLOW.format(arg="--all", arg_b="--all"))
    index = build_index(root)
    before_text = (root / ".github/workflows/ci.yml").read_text()
    (cluster,) = _job_clusters(root)
    assert cluster.abstraction == "yaml-anchor" and cluster.exact
    proposal = propose_abstraction(cluster, index)
    apply_proposal(root, proposal)

    text = (root / ".github/workflows/ci.yml").read_text()
    assert "<<" not in text
    assert "  test-a: &test-a-job  # first copy\n" in text
    assert "  test-b: *test-a-job\n" in text
    assert "# trailing comment stays" in text and "# the same suite on every push" in text
    assert text.count("pytest -q") == 1
    assert len(text.splitlines()) == len(before_text.splitlines()) - JOB.count("\n")
    old_doc, new_doc = compose_documents(before_text)[0][0], compose_documents(text)[0][0]
    assert to_python(new_doc) == to_python(old_doc)
    alias = to_python(get(get(new_doc, "jobs"), "test-b"))
    assert alias["steps"][1]["env"] == {"TOKEN": "${{ secrets.TOKEN }}"}
    after = build_index(root)
    assert after.parsed[".github/workflows/ci.yml"].problem is None
    assert _job_clusters(root) == []
    assert [c for c in find_clones(after) if c.category == "gha-steps"] == []


def test_three_copies_alias_the_first(make_repo):
    text = WORKFLOW.format(arg="x", arg_b="x").replace(
        "  deploy:", "  test-c:\n" + JOB.format(arg="x") + "  deploy:")
    root = _repo(make_repo, text)
    (cluster,) = _job_clusters(root)
    apply_proposal(root, propose_abstraction(cluster, build_index(root)))
    new = (root / ".github/workflows/ci.yml").read_text()
    assert new.count("*test-a-job") == 2 and new.count("&test-a-job") == 1
    assert to_python(compose_documents(new)[0][0]) == to_python(compose_documents(text)[0][0])
    assert _job_clusters(root) == []


def test_jobs_that_differ_are_not_anchored(make_repo):
    text = WORKFLOW.format(arg="x", arg_b="x")
    second = text.index("  test-b:")
    text = text[:second] + text[second:].replace("timeout-minutes: 15", "timeout-minutes: 30")
    root = _repo(make_repo, text)
    (cluster,) = _job_clusters(root)
    assert cluster.abstraction == "yaml-anchor" and not cluster.exact
    with pytest.raises(NotProposable, match=r"differ in `timeout-minutes`.*`<<` merge keys"):
        propose_abstraction(cluster, build_index(root))


def test_jobs_differing_only_in_a_cosmetic_name_are_not_anchored(make_repo):
    text = WORKFLOW.format(arg="x", arg_b="x").replace("  test-b:\n", "  test-b:\n    name: B\n")
    root = _repo(make_repo, text)
    clusters = _job_clusters(root)
    assert clusters and all(c.abstraction == "yaml-anchor" for c in clusters)
    for cluster in clusters:
        with pytest.raises(NotProposable, match="differ in `name`"):
            propose_abstraction(cluster, build_index(root))
    assert (root / ".github/workflows/ci.yml").read_text() == text


def test_an_already_anchored_job_is_refused(make_repo):
    text = WORKFLOW.format(arg="x", arg_b="x").replace("  test-a:  # first copy", "  test-a: &mine")
    root = _repo(make_repo, text)
    (cluster,) = _job_clusters(root)
    with pytest.raises(NotProposable, match="already carries an anchor"):
        propose_abstraction(cluster, build_index(root))
