"""Steps copied out of an existing composite action: every workflow copy becomes a call of that action
with the inputs recovered from the copy — or no proposal, and the reason, when an input cannot say it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.discovery import InfraIndex, build_index
from core.dupes.existing_action import existing_action
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.models import FileKind
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, seq, to_python

ACTION = """\
name: Set up Python
description: Python, a pip cache and the requirements every Python job repeats.
inputs:
  python-version:
    description: Python version
    default: "3.12"
  requirements:
    description: requirements file
    required: true
  extra:
    description: extra packages
    default: ""
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
      with:
        python-version: ${{ inputs.python-version }}
    - uses: actions/cache@v4
      with:
        path: ~/.cache/pip
        key: pip-${{ runner.os }}-${{ hashFiles(inputs.requirements) }}
    - shell: bash
      run: |
        python -m pip install --upgrade pip
        pip install -r ${{ inputs.requirements }} ${{ inputs.extra }}
"""
WORKFLOW = """\
name: {name}
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # the copy of the setup action, pasted before it existed
      - name: Python
        uses: actions/setup-python@v5
        with:
          python-version: "{version}"
      - name: Cache
        uses: actions/cache@v4
        with:
          path: {cache}
          key: pip-${{{{ runner.os }}}}-${{{{ hashFiles('{req}') }}}}
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install -r {req2} {extra}
      - run: pytest -q {name}
"""


def _workflow(name: str, version: str = "3.12", req: str = "requirements.txt", extra: str = "pytest",
              cache: str = "~/.cache/pip", req2: str | None = None) -> str:
    return WORKFLOW.format(name=name, version=version, req=req, extra=extra, cache=cache, req2=req2 or req)


def _repo(make_repo, **workflows: str) -> Path:
    files = {".github/actions/setup/action.yml": ACTION}
    files.update({f".github/workflows/{name}.yml": text for name, text in workflows.items()})
    return make_repo(files)


def _action_cluster(root: Path) -> tuple[DuplicateCluster, InfraIndex]:
    index = build_index(root)
    found = [c for c in find_clones(index, min_lines=2) if c.category == "gha-steps"
             and any(index.parsed[o.path].kind is FileKind.GHA_ACTION for o in c.occurrences)]
    assert len(found) == 1, [c.occurrences for c in find_clones(index, min_lines=2)]
    return found[0], index


def _steps(root: Path, path: str) -> list[dict]:
    doc = compose_documents((root / path).read_text())[0][0]
    return [to_python(s) for s in seq(get(get(get(doc, "jobs"), "test"), "steps"))]


def test_copies_become_calls_with_the_values_they_had(make_repo):
    root = _repo(make_repo,
                 api=_workflow("api", req="services/api/requirements.txt"),
                 web=_workflow("web", version="3.11", req="services/web/requirements.txt",
                               extra="pytest-django"))
    cluster, index = _action_cluster(root)
    assert cluster.units_each == 2  # the shapes link setup-python + cache; the install step too, by matching
    proposal = propose_abstraction(cluster, index)
    assert sorted(proposal.paths) == [".github/workflows/api.yml", ".github/workflows/web.yml"]
    action_before = (root / ".github/actions/setup/action.yml").read_bytes()
    apply_proposal(root, proposal)
    assert (root / ".github/actions/setup/action.yml").read_bytes() == action_before

    api = _steps(root, ".github/workflows/api.yml")
    assert api == [
        {"uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "./.github/actions/setup",
         "with": {"requirements": "services/api/requirements.txt", "extra": "pytest"}},  # 3.12 is the default
        {"run": "pytest -q api"},
    ]
    web = _steps(root, ".github/workflows/web.yml")
    assert web[1]["with"] == {"python-version": "3.11", "requirements": "services/web/requirements.txt",
                              "extra": "pytest-django"}
    text = (root / ".github/workflows/api.yml").read_text()
    assert "# the copy of the setup action" in text and text.endswith("      - run: pytest -q api\n")

    after = build_index(root)
    assert all(p.problem is None for p in after.parsed.values())
    left = [c for c in find_clones(after, min_lines=2) if c.category == "gha-steps"]
    assert not any(".github/actions/setup/action.yml" in c.files for c in left)


def test_a_literal_the_action_hard_codes_differently_is_refused(make_repo):
    root = _repo(make_repo, api=_workflow("api"), web=_workflow("web", cache="~/.pip-cache"))
    cluster, index = _action_cluster(root)
    with pytest.raises(NotProposable, match=r"hard-codes '~/.cache/pip' at step 2 with.path where "
                                            r"\.github/workflows/web.yml has '~/.pip-cache'"):
        propose_abstraction(cluster, index)


def test_one_input_with_two_values_in_a_copy_is_refused(make_repo):
    root = _repo(make_repo, api=_workflow("api"), web=_workflow("web", req2="other.txt"))
    cluster, index = _action_cluster(root)
    with pytest.raises(NotProposable, match=r"inputs\.requirements would need two values"):
        existing_action(cluster, index)


def test_a_copy_of_only_some_of_the_steps_is_refused(make_repo):
    partial = _workflow("web").split("      - name: Install")[0]  # the job ends before the install step
    root = _repo(make_repo, api=partial, web=partial.replace("name: web", "name: web2"))
    cluster, index = _action_cluster(root)
    with pytest.raises(NotProposable, match=r"copies only part of \./\.github/actions/setup"):
        propose_abstraction(cluster, index)


def test_the_demo_workflows_call_the_demo_action(tmp_path):
    from core.demo import make_demo_repo

    root = make_demo_repo(tmp_path / "demo")
    cluster, index = _action_cluster(root)
    proposal = propose_abstraction(cluster, index)
    assert len(proposal.edits) == 3 and proposal.title.startswith("Call the existing composite action")
    apply_proposal(root, proposal)
    admin = _steps(root, ".github/workflows/test-admin.yml")
    assert admin[1]["uses"] == "./.github/actions/setup-python-env"
    assert admin[1]["with"] == {"python-version": "3.11", "requirements": "services/api/requirements.txt",
                                "extra": "pytest"}
