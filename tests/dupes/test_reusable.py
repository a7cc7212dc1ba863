"""Whole jobs copied across workflows become a reusable workflow that each copy calls — or, when a
calling job could not keep what differs, no proposal and a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.discovery import build_index
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.models import FileKind
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, to_python

WORKFLOW = """\
name: {title}
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps: [{{run: make build}}]  # too short to count as a copy
  test:
    name: Test on {title}
    needs: [build]
    # runs the suite and reports coverage
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - run: pip install -r requirements.txt
      - name: Tests
        run: pytest -q --cov
        env:
          COV_TOKEN: ${{{{ secrets.{secret} }}}}
      - run: ./upload.sh
        env:
          KEY: ${{{{ secrets.UPLOAD_KEY }}}}
"""
CALLER_KEYS = {"name", "needs", "if", "strategy", "permissions", "concurrency", "uses", "with", "secrets"}


def _job_cluster(index):
    found = [c for c in find_clones(index) if c.category == "gha-job"]
    assert len(found) == 1, [(c.category, c.occurrences) for c in found]
    return found[0]


def _workflows(make_repo, **texts: str) -> Path:
    return make_repo({f".github/workflows/{name}.yml": text for name, text in texts.items()})


def test_jobs_differing_in_python_and_a_secret_become_one_reusable_workflow(make_repo):
    root = _workflows(make_repo,
                      ci=WORKFLOW.format(title="CI", python="3.11", secret="COV_TOKEN"),
                      nightly=WORKFLOW.format(title="Nightly", python="3.12", secret="NIGHTLY_COV"))
    index = build_index(root)
    cluster = _job_cluster(index)
    assert cluster.abstraction == "reusable-workflow"
    proposal = propose_abstraction(cluster, index)
    apply_proposal(root, proposal)

    after = build_index(root)
    shared = after.parsed[".github/workflows/test.yml"]
    assert shared.problem is None and shared.kind is FileKind.GHA_WORKFLOW
    text = (root / ".github/workflows/test.yml").read_text()
    assert "<<" not in text and "inherit" not in text
    call = to_python(get(get(shared.docs[0], "on"), "workflow_call"))
    assert call["inputs"] == {"python-version": {"description": "was 3.11, 3.12", "type": "string",
                                                 "required": True}}
    assert set(call["secrets"]) == {"UPLOAD_KEY", "COV_TOKEN_2"}
    job = to_python(get(get(shared.docs[0], "jobs"), "test"))
    assert job["steps"][1]["with"]["python-version"] == "${{ inputs.python-version }}"
    assert job["steps"][3]["env"]["COV_TOKEN"] == "${{ secrets.COV_TOKEN_2 }}"
    assert job["timeout-minutes"] == 20 and "needs" not in job

    for name, python, secret in (("ci", "3.11", "COV_TOKEN"), ("nightly", "3.12", "NIGHTLY_COV")):
        parsed = after.parsed[f".github/workflows/{name}.yml"]
        assert parsed.problem is None and parsed.kind is FileKind.GHA_WORKFLOW
        jobs = to_python(get(parsed.docs[0], "jobs"))
        caller = jobs["test"]
        assert set(caller) <= CALLER_KEYS
        assert caller["uses"] == "./.github/workflows/test.yml"
        assert caller["needs"] == ["build"] and caller["name"].startswith("Test on")
        assert caller["with"] == {"python-version": python}
        assert caller["secrets"] == {"UPLOAD_KEY": "${{ secrets.UPLOAD_KEY }}",
                                     "COV_TOKEN_2": f"${{{{ secrets.{secret} }}}}"}
        assert jobs["build"] == {"runs-on": "ubuntu-latest", "steps": [{"run": "make build"}]}
        caller_text = (root / f".github/workflows/{name}.yml").read_text()
        assert "    # runs the suite and reports coverage\n" in caller_text
    assert [c for c in find_clones(after) if c.category == "gha-job"] == []


def test_job_level_env_that_differs_is_not_proposable(make_repo):
    base = WORKFLOW.format(title="CI", python="3.11", secret="COV_TOKEN")
    with_env = base.replace("    timeout-minutes: 20\n",
                            "    timeout-minutes: 20\n    env:\n      STAGE: STAGE_VALUE\n")
    root = _workflows(make_repo, ci=with_env.replace("STAGE_VALUE", "dev"),
                      nightly=with_env.replace("STAGE_VALUE", "prod"))
    index = build_index(root)
    with pytest.raises(NotProposable, match=r"`env` differs between the copies \(dev, prod\)"):
        propose_abstraction(_job_cluster(index), index)


def test_runs_on_becomes_an_input_and_booleans_keep_their_type(make_repo):
    job = """\
on: push
jobs:
  deploy:
    runs-on: {runner}
    steps:
      - uses: actions/checkout@v4
      - uses: some/deploy@v1
        with:
          dry-run: {dry}
          target: production
      - run: echo done
"""
    root = _workflows(make_repo, a=job.format(runner="ubuntu-latest", dry="true"),
                      b=job.format(runner="self-hosted", dry="false"))
    index = build_index(root)
    proposal = propose_abstraction(_job_cluster(index), index)
    shared = next(e for e in proposal.edits if e.path == ".github/workflows/deploy.yml").after.decode()
    doc = compose_documents(shared)[0][0]
    inputs = to_python(get(get(get(doc, "on"), "workflow_call"), "inputs"))
    assert {k: v["type"] for k, v in inputs.items()} == {"runs-on": "string", "dry-run": "boolean"}
    assert "secrets" not in to_python(get(get(doc, "on"), "workflow_call"))
    caller_b = next(e for e in proposal.edits if e.path.endswith("/b.yml")).after.decode()
    call = to_python(get(get(compose_documents(caller_b)[0][0], "jobs"), "deploy"))
    assert call["with"] == {"runs-on": "self-hosted", "dry-run": False}


def test_a_job_reading_the_callers_matrix_is_not_proposable(make_repo):
    job = """\
on: push
jobs:
  test:
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{{{ matrix.python }}}}
      - run: pytest {what}
"""
    root = _workflows(make_repo, a=job.format(what="api"), b=job.format(what="web"))
    index = build_index(root)
    with pytest.raises(NotProposable, match="matrix"):
        propose_abstraction(_job_cluster(index), index)


def test_merge_keys_in_the_copies_are_not_carried_into_the_workflow(make_repo):
    job = """\
on: push
x-steps: &setup
  uses: actions/checkout@v4
  with: {{fetch-depth: 0}}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - <<: *setup
        name: Check out
      - run: make release TARGET={what}
      - run: make publish
"""
    root = _workflows(make_repo, a=job.format(what="api"), b=job.format(what="web"))
    index = build_index(root)
    proposal = propose_abstraction(_job_cluster(index), index)
    shared = next(e for e in proposal.edits if e.path == ".github/workflows/release.yml").after.decode()
    assert "<<" not in shared and "*" not in shared and "&" not in shared
    steps = to_python(get(get(get(compose_documents(shared)[0][0], "jobs"), "release"), "steps"))
    assert steps[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}, "name": "Check out"}
    assert steps[1]["run"] == "make release TARGET=${{ inputs.TARGET }}" or "inputs." in steps[1]["run"]


def test_a_step_condition_that_differs_is_not_proposable(make_repo):
    job = """\
on: push
jobs:
  notify:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./notify.sh
        if: {cond}
      - run: echo sent
"""
    root = _workflows(make_repo, a=job.format(cond="success()"), b=job.format(cond="failure()"))
    index = build_index(root)
    with pytest.raises(NotProposable, match="condition cannot be passed as an input"):
        propose_abstraction(_job_cluster(index), index)
