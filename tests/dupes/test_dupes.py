"""Duplication: groups from realistic copy-paste, and proposals that apply cleanly and remove it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.discovery import build_index
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import duplicated_lines_by_file, find_clones
from core.models import FileKind
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, to_python

WORKFLOW_A = """\
name: A
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Check out
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      # install everything the tests need
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install -r requirements.txt
      - run: pytest -q
"""
# Same three steps: other key order, inline (flow) style, other step names, other values.
WORKFLOW_B = """\
name: B
on: [pull_request]
jobs:
  lint:
    runs-on: ubuntu-22.04
    steps:
      - uses: actions/checkout@v4
      - {with: {cache: pip, python-version: '3.12'}, uses: actions/setup-python@v5, name: Python}
      - run: |
          python -m pip install --upgrade pip
          pip install -r requirements-dev.txt
        name: Deps
      - run: ruff check .
"""
COMPOSE = """\
services:
  api:
    # the API
    image: registry.example.com/api:1.4
    restart: unless-stopped
    logging:
      driver: json-file
      options:
        max-size: "10m"
    networks: [backend]
    environment:
      LOG_LEVEL: info
  worker:
    image: registry.example.com/worker:1.4
    restart: unless-stopped
    logging:
      driver: json-file
      options:
        max-size: "10m"
    networks: [backend]
    environment:
      LOG_LEVEL: debug
networks:
  backend: {}
"""
GITLAB = """\
stages: [test]
test-api:
  stage: test
  image: python:3.12
  before_script:
    - pip install -r requirements.txt
  script:
    - pytest api
  tags: [docker]
test-worker:
  stage: test
  image: python:3.12
  before_script:
    - pip install -r requirements.txt
  script:
    - pytest worker
  tags: [docker]
"""
DEPLOY_FN = """\
log() {
  printf '%s %s\\n' "$(date -u +%FT%TZ)" "$*" >&2
  logger -t deploy "$*"
}
"""


def _repo(make_repo, **files: str) -> Path:
    return make_repo(files)


@pytest.fixture
def workflows(make_repo) -> Path:
    return make_repo({".github/workflows/a.yml": WORKFLOW_A, ".github/workflows/b.yml": WORKFLOW_B})


def _only(clusters, category):
    found = [c for c in clusters if c.category == category]
    assert len(found) == 1, [(c.category, c.occurrences) for c in clusters]
    return found[0]


def test_steps_differing_in_order_style_names_and_values_form_one_group(workflows):
    cluster = _only(find_clones(build_index(workflows), min_lines=2), "gha-steps")
    assert cluster.copies == 2 and cluster.units_each == 3
    assert [(o.path, o.start_line, o.end_line) for o in cluster.occurrences] == [
        (".github/workflows/a.yml", 7, 18),
        (".github/workflows/b.yml", 7, 12),
    ]
    params = {p.name: p.values for p in cluster.parameters}
    assert params == {"python-version": ("3.11", "3.12"),
                      "requirements": ("requirements.txt", "requirements-dev.txt")}
    assert cluster.abstraction == "composite-action"
    assert not cluster.exact


def test_composite_action_proposal_applies_and_removes_the_duplication(workflows):
    index = build_index(workflows)
    cluster = _only(find_clones(index, min_lines=2), "gha-steps")
    proposal = propose_abstraction(cluster, index)
    result = apply_proposal(workflows, proposal)
    assert result.files_written if hasattr(result, "files_written") else result
    action = workflows / ".github/actions/checkout-setup-python/action.yml"
    action_doc = compose_documents(action.read_text())[0][0]
    assert to_python(get(get(action_doc, "runs"), "using")) == "composite"
    assert set(to_python(get(action_doc, "inputs"))) == {"python-version", "requirements"}
    steps = to_python(get(get(action_doc, "runs"), "steps"))
    assert steps[2]["shell"] == "bash" and "${{ inputs.requirements }}" in steps[2]["run"]
    after = build_index(workflows)
    for path in (".github/workflows/a.yml", ".github/workflows/b.yml"):
        parsed = after.parsed[path]
        assert parsed.problem is None and parsed.kind is FileKind.GHA_WORKFLOW
        job = next(iter(to_python(get(parsed.docs[0], "jobs")).values()))
        assert job["steps"][0]["uses"] == "./.github/actions/checkout-setup-python"
        assert len(job["steps"]) == 2  # the job's own last step is untouched
    # the untouched comment above the replaced steps' neighbour survives, the step after too
    assert "- run: pytest -q" in (workflows / ".github/workflows/a.yml").read_text()
    assert [c for c in find_clones(after, min_lines=2) if c.category == "gha-steps"] == []


def test_compose_anchor_proposal_keeps_services_identical(make_repo):
    root = make_repo({"docker-compose.yml": COMPOSE})
    index = build_index(root)
    cluster = _only(find_clones(index, min_lines=2), "compose-service")
    assert cluster.abstraction == "compose-anchor"
    before = to_python(get(index.parsed["docker-compose.yml"].docs[0], "services"))
    apply_proposal(root, propose_abstraction(cluster, index))
    text = (root / "docker-compose.yml").read_text()
    assert "x-api-worker-common: &api-worker-common" in text and text.count("<<: *api-worker-common") == 2
    assert "    # the API\n" in text
    after = build_index(root)
    assert to_python(get(after.parsed["docker-compose.yml"].docs[0], "services")) == before
    assert [c for c in find_clones(after, min_lines=2) if c.category == "compose-service"] == []


def test_gitlab_template_proposal_resolves_to_the_same_jobs(make_repo):
    root = make_repo({".gitlab-ci.yml": GITLAB})
    index = build_index(root)
    cluster = _only(find_clones(index, min_lines=2), "gitlab-job")
    apply_proposal(root, propose_abstraction(cluster, index))
    doc = compose_documents((root / ".gitlab-ci.yml").read_text())[0][0]
    template = to_python(get(doc, ".test-api-base"))
    assert template["image"] == "python:3.12"
    assert template["before_script"] == ["pip install -r requirements.txt"]
    for job, target in (("test-api", "api"), ("test-worker", "worker")):
        body = to_python(get(doc, job))
        assert body == {"extends": ".test-api-base", "script": [f"pytest {target}"]}
    after = build_index(root)
    assert [c for c in find_clones(after, min_lines=2) if c.category == "gitlab-job"] == []


def test_shell_function_moves_to_a_sourced_library(make_repo):
    scripts = {
        f"deploy/{name}.sh": f"#!/usr/bin/env bash\nset -euo pipefail\n\n{DEPLOY_FN}\nlog deploying {name}\n"
        for name in ("api", "web", "worker")
    }
    root = make_repo(scripts)
    index = build_index(root)
    cluster = _only(find_clones(index, min_lines=3), "shell-function")
    assert cluster.copies == 3 and cluster.exact
    apply_proposal(root, propose_abstraction(cluster, index))
    lib = (root / "deploy/lib/common.sh").read_text()
    assert "log() {" in lib
    for name in ("api", "web", "worker"):
        text = (root / f"deploy/{name}.sh").read_text()
        assert '. "$(dirname "$0")/lib/common.sh"' in text and "log() {" not in text
    # the library really defines the function the scripts call
    out = subprocess.run(["bash", str(root / "deploy/api.sh")], capture_output=True, text=True,
                         cwd=root, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert "deploying api" in out.stderr


def test_ambiguous_varying_word_is_not_proposed(make_repo):
    steps = ("      - uses: actions/checkout@v4\n      - uses: actions/setup-go@v5\n"
             "      - run: |\n          go vet ./...\n          go build ./...\n          go test ./...\n"
             "          make {x}\n          echo {x} done\n          echo {x} done\n")
    wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
    root = make_repo({
        ".github/workflows/a.yml": wf + steps.format(x="alpha"),
        ".github/workflows/b.yml": wf + steps.format(x="beta"),
    })
    index = build_index(root)
    cluster = _only(find_clones(index, min_lines=2), "gha-steps")
    with pytest.raises(NotProposable, match="not unique"):
        propose_abstraction(cluster, index)


def test_secrets_in_shared_steps_become_inputs(make_repo):
    steps = ("      - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4\n"
             "      - run: npm ci\n      - run: npm test\n"
             "      - run: ./publish.sh {x}\n        env:\n          TOKEN: ${{{{ secrets.NPM_TOKEN }}}}\n")
    wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
    root = make_repo({".github/workflows/a.yml": wf + steps.format(x="api"),
                      ".github/workflows/b.yml": wf + steps.format(x="web")})
    index = build_index(root)
    cluster = _only(find_clones(index, min_lines=2), "gha-steps")
    assert "secrets" in cluster.touches
    proposal = propose_abstraction(cluster, index)
    action = next(e for e in proposal.edits if e.path.endswith("action.yml")).after.decode()
    assert "secrets." not in action and "${{ inputs.npm-token }}" in action
    caller = next(e for e in proposal.edits if e.path.endswith("a.yml")).after.decode()
    assert "npm-token: ${{ secrets.NPM_TOKEN }}" in caller or '"${{ secrets.NPM_TOKEN }}"' in caller


def test_groups_not_pairs_and_tree_badges(make_repo):
    root = make_repo({f"deploy/s{i}.sh": f"#!/bin/sh\n{DEPLOY_FN}" for i in range(4)})
    clusters = find_clones(build_index(root), min_lines=3)
    cluster = _only(clusters, "shell-function")
    assert cluster.copies == 4
    badges = duplicated_lines_by_file(clusters)
    assert badges == {f"deploy/s{i}.sh": 4 for i in range(4)}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_dupes_cli(workflows, fmt):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "dupes", str(workflows), "--format", fmt,
                             "--min-lines", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if fmt == "text":
        assert "composite action" in result.stdout and ".github/workflows/b.yml:7-12" in result.stdout
    elif fmt == "json":
        data = json.loads(result.stdout)
        assert data["groups"][0]["category"] == "gha-steps"
    else:
        data = json.loads(result.stdout)
        assert data["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"]["region"] == {
            "startLine": 7, "endLine": 12}


def test_dupes_cli_bad_path(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "dupes", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no such file" in result.stderr




@pytest.mark.parametrize("category", ["gha-steps", "compose-service", "gitlab-job", "shell-function"])
def test_demo_repository_abstractions_apply_and_remove_the_duplication(tmp_path, category):
    from core.demo import make_demo_repo
    from core.scan import scan_index

    root = make_demo_repo(tmp_path / "demo")
    index = build_index(root)
    proposable = []
    for cluster in find_clones(index):
        if cluster.category != category:
            continue
        try:
            proposable.append((cluster, propose_abstraction(cluster, index)))
        except NotProposable:
            continue
    assert proposable, f"no {category} proposal on the demo repository"
    cluster, proposal = proposable[0]
    parse_errors_before = {f.path for f in scan_index(index) if f.rule_id == "DT-P001"}
    apply_proposal(root, proposal)
    after = build_index(root)
    for edit in proposal.edits:
        parsed = after.parsed[edit.path]
        assert parsed.problem is None, (edit.path, parsed.problem)
        assert parsed.kind is index.parsed.get(edit.path, parsed).kind
    assert {f.path for f in scan_index(after) if f.rule_id == "DT-P001"} == parse_errors_before
    spans = {(o.path, o.start_line) for o in cluster.occurrences}
    remaining = [c for c in find_clones(after) if c.category == category
                 and {(o.path, o.start_line) for o in c.occurrences} & spans == spans]
    assert remaining == []
    assert len([c for c in find_clones(after) if c.category == category]) < len(
        [c for c in find_clones(index) if c.category == category]) or category == "gha-steps"
