"""Compose services copied across files share a base service in a new file that each copy `extends` —
or, when that would change what compose runs, no proposal and a reason."""

from __future__ import annotations

from pathlib import Path

from core.discovery import build_index
from core.dupes.compose_extends import compose_extends
from core.dupes.propose import propose_abstraction
from core.dupes.scan import find_clones
from core.models import FileKind
from core.patching import apply_proposal
from core.yamlnodes import get, to_python

SERVICE = """\
services:
  # {name} talks to the queue
  {name}:
    image: registry.example.com/app:2.1
    restart: unless-stopped
{extra}    ports:
      - "{port}:8080"
    logging:
      driver: json-file
      options:
        max-size: 10m
    environment:
      LOG_LEVEL: info
      QUEUE_URL: amqp://queue:5672
  sidecar:
    image: busybox
"""
NESTED = "services/worker/compose.yml"


def _cluster(index):
    found = [c for c in find_clones(index) if c.category == "compose-service"]
    assert len(found) == 1, [(c.category, c.occurrences) for c in found]
    return found[0]


def _repo(make_repo, extra_api: str = "", extra_worker: str = "") -> Path:
    return make_repo({
        "docker-compose.yml": SERVICE.format(name="api", port=8080, extra=extra_api),
        NESTED: SERVICE.format(name="worker", port=9090, extra=extra_worker),
    })


def _resolved(doc_services: dict, name: str, base: dict) -> dict:
    service = dict(doc_services[name])
    service.pop("extends")
    return {**base, **service}


def test_services_in_two_files_extend_one_base_service(make_repo):
    root = _repo(make_repo)
    index = build_index(root)
    cluster = _cluster(index)
    assert cluster.abstraction == "compose-extends"
    before = {p: to_python(index.parsed[p].docs[0]) for p in ("docker-compose.yml", NESTED)}
    apply_proposal(root, propose_abstraction(cluster, index))

    after = build_index(root)
    common = after.parsed["compose/common.yml"]
    assert common.problem is None and common.kind is FileKind.COMPOSE
    base = to_python(get(get(common.docs[0], "services"), "api-base"))
    assert set(base) == {"image", "restart", "logging", "environment"}
    assert base["logging"] == {"driver": "json-file", "options": {"max-size": "10m"}}
    for path, name, rel in (("docker-compose.yml", "api", "compose/common.yml"),
                            (NESTED, "worker", "../../compose/common.yml")):
        parsed = after.parsed[path]
        assert parsed.problem is None and parsed.kind is FileKind.COMPOSE
        services = to_python(get(parsed.docs[0], "services"))
        assert services[name]["extends"] == {"file": rel, "service": "api-base"}
        assert set(services[name]) == {"extends", "ports"}
        assert _resolved(services, name, base) == before[path]["services"][name]
        assert services["sidecar"] == {"image": "busybox"}
        text = (root / path).read_text()
        assert f"  # {name} talks to the queue\n  {name}:\n    extends:\n      file: {rel}\n" in text
    assert [c for c in find_clones(after) if c.category == "compose-service"] == []


def test_depends_on_stays_in_each_copy(make_repo):
    root = _repo(make_repo, extra_api="    depends_on: [queue]\n", extra_worker="    depends_on: [queue]\n")
    index = build_index(root)
    proposal = compose_extends(_cluster(index), index)
    assert "compose does not inherit them: depends_on." in proposal.rationale
    apply_proposal(root, proposal)
    after = build_index(root)
    base = to_python(get(get(after.parsed["compose/common.yml"].docs[0], "services"), "api-base"))
    assert "depends_on" not in base and len(base) == 4
    worker = to_python(get(get(after.parsed[NESTED].docs[0], "services"), "worker"))
    assert worker["depends_on"] == ["queue"] and "image" not in worker


def test_services_that_already_extend_are_not_grouped_again(make_repo):
    """A service that shares through `extends` keeps only what is its own: not a copy to fold again."""
    extends = "    extends:\n      file: other.yml\n      service: base\n"
    root = _repo(make_repo, extra_api=extends, extra_worker=extends)
    index = build_index(root)
    assert [c for c in find_clones(index, min_lines=2) if c.category == "compose-service"] == []


def test_relative_build_paths_are_not_moved_to_another_folder(make_repo):
    build = "    build: ./app\n    env_file: .env\n"
    root = _repo(make_repo, extra_api=build, extra_worker=build)
    index = build_index(root)
    proposal = compose_extends(_cluster(index), index)
    apply_proposal(root, proposal)
    after = build_index(root)
    base = to_python(get(get(after.parsed["compose/common.yml"].docs[0], "services"), "api-base"))
    assert "build" not in base and "env_file" not in base
    api = to_python(get(get(after.parsed["docker-compose.yml"].docs[0], "services"), "api"))
    assert api["build"] == "./app" and api["env_file"] == ".env"


def test_existing_common_file_moves_the_base_next_to_the_first_copy(make_repo):
    root = make_repo({
        "docker-compose.yml": SERVICE.format(name="api", port=8080, extra=""),
        NESTED: SERVICE.format(name="worker", port=9090, extra=""),
        "compose/common.yml": "services: {}\n",
    })
    index = build_index(root)
    proposal = propose_abstraction(_cluster(index), index)
    assert [e.path for e in proposal.edits] == ["compose.common.yml", "docker-compose.yml", NESTED]
