"""Dockerfiles opening with the same FROM and instructions become FROM a shared base Dockerfile — or,
when the copies could not share one base, no proposal and a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.discovery import build_index
from core.dockerfile import parse_dockerfile
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.patching import Safety, apply_proposal

SERVICE = """\
# syntax=docker/dockerfile:1
FROM {image} AS app
# shared setup
RUN apt-get update && \\
    apt-get install -y --no-install-recommends curl ca-certificates
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -r /app/requirements.txt
WORKDIR /app
COPY {name}/ /app/
CMD ["python", "-m", "{name}"]
"""
NAMES = ("api", "worker", "web")


def _repo(make_repo, images: tuple[str, ...] = ("python:3.12-slim",) * 3, **extra: str) -> Path:
    files = {f"services/{n}/Dockerfile": SERVICE.format(image=img, name=n)
             for n, img in zip(NAMES, images, strict=True)}
    return make_repo({**files, **extra})


def _docker_runs(index):
    return [c for c in find_clones(index) if c.category == "docker-run"]


def test_three_dockerfiles_sharing_a_prefix_build_from_one_base(make_repo):
    root = _repo(make_repo)
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    assert cluster.abstraction == "docker-base-stage" and cluster.copies == 3
    proposal = propose_abstraction(cluster, index)
    assert proposal.safety is Safety.REVIEW and "build the base first" in proposal.rationale
    apply_proposal(root, proposal)

    base = (root / "services/base.Dockerfile").read_text()
    parsed_base = parse_dockerfile(base)
    assert not parsed_base.problems and base.startswith("# syntax=docker/dockerfile:1\n")
    assert [(i.keyword, i.args) for i in parsed_base.instructions] == [
        ("FROM", "python:3.12-slim"),
        ("RUN", "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates"),
        ("COPY", "requirements.txt /app/requirements.txt"),
        ("RUN", "pip install --no-cache-dir -r /app/requirements.txt"),
        ("WORKDIR", "/app"),
    ]
    for name in NAMES:
        text = (root / f"services/{name}/Dockerfile").read_text()
        rewritten = parse_dockerfile(text)
        assert not rewritten.problems, rewritten.problems
        assert rewritten.directives == {"syntax": "docker/dockerfile:1"}
        assert [(i.keyword, i.args) for i in rewritten.instructions] == [
            ("ARG", f"BASE_IMAGE={root.name.lower()}-base:latest"),
            ("FROM", "${BASE_IMAGE} AS app"),
            ("COPY", f"{name}/ /app/"),
            ("CMD", f'["python", "-m", "{name}"]'),
        ]
        assert "docker build -f services/base.Dockerfile" in text and "apt-get" not in text
    after = build_index(root)
    assert after.parsed["services/base.Dockerfile"].problem is None
    assert _docker_runs(after) == []


def test_base_at_the_repository_root_goes_to_docker_folder(make_repo):
    files = {f"{n}.Dockerfile": SERVICE.format(image="node:20", name=n) for n in NAMES}
    root = make_repo(files)
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    proposal = propose_abstraction(cluster, index)
    assert "docker/base.Dockerfile" in proposal.paths
    assert f"docker build -f docker/base.Dockerfile -t {root.name.lower()}-base ." in proposal.rationale
    apply_proposal(root, proposal)
    after = build_index(root)
    assert after.parsed["docker/base.Dockerfile"].problem is None
    assert all(after.parsed[f"{n}.Dockerfile"].problem is None for n in NAMES)
    assert _docker_runs(after) == []


def test_different_from_images_are_not_proposable(make_repo):
    root = _repo(make_repo, images=("python:3.12-slim", "python:3.11-slim", "python:3.12-slim"))
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    with pytest.raises(NotProposable, match="different images"):
        propose_abstraction(cluster, index)


def test_differing_values_in_the_shared_run_are_not_proposable(make_repo):
    root = _repo(make_repo)
    path = root / "services/web/Dockerfile"
    path.write_text(path.read_text().replace("curl ca-certificates", "wget ca-certificates"))
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    with pytest.raises(NotProposable, match=r"the copies differ in .*identical instructions"):
        propose_abstraction(cluster, index)


def test_an_existing_base_file_is_not_overwritten(make_repo):
    root = _repo(make_repo, **{"services/base.Dockerfile": "FROM scratch\n"})
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    with pytest.raises(NotProposable, match="exists already"):
        propose_abstraction(cluster, index)


def test_a_shared_arg_is_not_moved_because_build_args_do_not_inherit(make_repo):
    with_arg = SERVICE.replace("# shared setup\n", "# shared setup\nARG PIP_INDEX=https://pypi.org/simple\n")
    root = make_repo({f"services/{n}/Dockerfile": with_arg.format(image="python:3.12", name=n)
                      for n in NAMES})
    index = build_index(root)
    (cluster,) = _docker_runs(index)
    with pytest.raises(NotProposable, match="ARG"):
        propose_abstraction(cluster, index)
