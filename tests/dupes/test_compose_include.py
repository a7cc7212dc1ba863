"""Compose networks, volumes, configs and secrets copied across files move into one shared file that each
copy pulls in with `include:` — applied for real, resolved again, rescanned; or refused with a reason."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.discovery import InfraIndex, build_index
from core.dupes.compose_include import MERGED_BY_INCLUDE, compose_include
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.models import FileKind
from core.patching import EditAction, apply_proposal
from core.yamlnodes import to_python

STACK = """\
# {svc} stack
services:
  {svc}:
    image: registry.example.com/{svc}:1.4
    networks: [backend, {svc}-edge]

networks:
  # the private network every stack joins
  backend:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_icc: "true"
    ipam:
      config:
        - subnet: 172.28.0.0/16
  {svc}-edge:
    driver: bridge
"""
API, WEB = "stacks/api/compose.yaml", "stacks/web/docker-compose.yml"
MakeRepo = Callable[..., Path]


def _blocks(index: InfraIndex) -> list[DuplicateCluster]:
    return sorted((c for c in find_clones(index) if c.category == "compose-block"),
                  key=lambda c: c.occurrences[0].label)


def _only(index: InfraIndex) -> DuplicateCluster:
    (cluster,) = _blocks(index)
    assert cluster.abstraction == "compose-include"
    return cluster


def _doc(root: Path, path: str) -> dict[str, Any]:
    index = build_index(root)
    parsed = index.parsed[path]
    assert parsed.problem is None and parsed.kind is FileKind.COMPOSE, parsed.problem
    value = to_python(parsed.docs[0])
    assert isinstance(value, dict)
    return value


def _resolve(root: Path, path: str) -> dict[str, Any]:
    """A compose file as Compose loads it: every included file's resources merged into its own blocks,
    a name defined on both sides being an error (as in Compose)."""
    doc = _doc(root, path)
    for ref in doc.pop("include", None) or []:
        included = (root / path).parent / (ref if isinstance(ref, str) else ref["path"])
        other = _resolve(root, included.resolve().relative_to(root.resolve()).as_posix())
        for block in MERGED_BY_INCLUDE:
            mine, theirs = doc.get(block) or {}, other.get(block) or {}
            assert not set(mine) & set(theirs), f"{path}: {block} defined twice"
            if theirs:
                doc[block] = {**mine, **theirs}
    return doc


def test_a_network_copied_into_two_stacks_moves_into_an_included_shared_file(make_repo: MakeRepo) -> None:
    root = make_repo({API: STACK.format(svc="api"), WEB: STACK.format(svc="web")})
    index = build_index(root)
    cluster = _only(index)
    assert [o.label for o in cluster.occurrences] == ["networks.backend", "networks.backend"]
    before = {p: _doc(root, p) for p in (API, WEB)}
    proposal = propose_abstraction(cluster, index)
    assert "Compose 2.20 or later" in proposal.rationale
    assert {e.path: e.action for e in proposal.edits} == {
        "stacks/compose.shared.yaml": EditAction.CREATE, API: EditAction.MODIFY, WEB: EditAction.MODIFY}
    apply_proposal(root, proposal)

    shared = _doc(root, "stacks/compose.shared.yaml")
    assert shared == {"networks": {"backend": before[API]["networks"]["backend"]}}
    for path, svc in ((API, "api"), (WEB, "web")):
        doc = _doc(root, path)
        assert doc["include"] == ["../compose.shared.yaml"]
        assert set(doc["networks"]) == {f"{svc}-edge"}  # its own network stays
        assert _resolve(root, path) == before[path]
        text = (root / path).read_text()
        assert text.startswith(f"# {svc} stack\ninclude:\n  - ../compose.shared.yaml\n\nservices:\n")
        assert text.endswith(f"  # the private network every stack joins\n  {svc}-edge:\n"
                             "    driver: bridge\n")
    assert _blocks(build_index(root)) == []


WHOLE = """\
include:
  - ../monitoring/compose.yaml   # the team's exporters

services:
  {svc}:
    image: {svc}:2
    volumes: [pgdata:/var/lib/postgresql/data]
    secrets: [db-password]

volumes:
  pgdata:
    driver: local
    driver_opts:
      type: none
      o: bind
      device: /srv/pgdata
  cache:

secrets:
  db-password:
    environment: DB_PASSWORD
    # kept in the CI vault
    x-rotation: monthly
"""
MONITORING = "services:\n  exporter:\n    image: prom/node-exporter:v1.8.0\n"


def test_whole_blocks_keep_an_include_list_then_join_the_shared_file_it_includes(make_repo: MakeRepo) -> None:
    root = make_repo({"api/compose.yaml": WHOLE.format(svc="api"),
                      "web/compose.yaml": WHOLE.format(svc="web"), "monitoring/compose.yaml": MONITORING})
    before = {p: _resolve(root, p) for p in ("api/compose.yaml", "web/compose.yaml")}
    labels = [c.occurrences[0].label for c in _blocks(build_index(root))]
    assert labels == ["secrets", "volumes"]
    for round_ in range(2):  # each proposal is made against the files as they are now
        index = build_index(root)
        cluster = _blocks(index)[0]
        proposal = propose_abstraction(cluster, index)
        actions = {e.path: e.action for e in proposal.edits}
        assert actions["compose.shared.yaml"] is (EditAction.CREATE if round_ == 0 else EditAction.MODIFY)
        if round_:
            assert "which each file includes already" in proposal.rationale
        apply_proposal(root, proposal)

    shared = _doc(root, "compose.shared.yaml")
    assert set(shared) == {"volumes", "secrets"} and set(shared["volumes"]) == {"pgdata", "cache"}
    assert "    # kept in the CI vault\n" in (root / "compose.shared.yaml").read_text()
    for path in ("api/compose.yaml", "web/compose.yaml"):
        doc = _doc(root, path)
        assert doc["include"] == ["../monitoring/compose.yaml", "../compose.shared.yaml"]
        assert "volumes" not in doc and "secrets" not in doc
        assert _resolve(root, path) == before[path]
        text = (root / path).read_text()
        assert text.startswith("include:\n  - ../monitoring/compose.yaml   # the team's exporters\n"
                               "  - ../compose.shared.yaml\n\nservices:\n")
    assert _blocks(build_index(root)) == []


def test_an_existing_file_every_copy_includes_receives_the_entries(make_repo: MakeRepo) -> None:
    header = "include:\n  - path: ../shared/compose.yaml\n"
    common = "# networks of the platform\nnetworks:\n  edge:\n    driver: bridge\n"
    root = make_repo({API: header + STACK.format(svc="api"), WEB: header + STACK.format(svc="web"),
                      "stacks/shared/compose.yaml": common})
    web = root / WEB  # another spelling of the same path is still the same file
    web.write_text(web.read_text().replace("path: ../shared", "path: ./../shared"))
    index = build_index(root)
    proposal = propose_abstraction(_only(index), index)
    assert {e.path: e.action for e in proposal.edits} == {
        "stacks/shared/compose.yaml": EditAction.MODIFY, API: EditAction.MODIFY, WEB: EditAction.MODIFY}
    before = {p: _resolve(root, p) for p in (API, WEB)}
    apply_proposal(root, proposal)
    shared = _doc(root, "stacks/shared/compose.yaml")
    assert list(shared["networks"]) == ["edge", "backend"]
    for path in (API, WEB):
        assert len(_doc(root, path)["include"]) == 1  # already included: nothing added
        assert _resolve(root, path) == before[path]
    assert _blocks(build_index(root)) == []


def test_windows_line_endings_survive_and_the_shared_file_gets_plain_ones(make_repo: MakeRepo) -> None:
    crlf = {p: STACK.format(svc=s).replace("\n", "\r\n").encode() for p, s in ((API, "api"), (WEB, "web"))}
    root = make_repo(crlf)
    index = build_index(root)
    apply_proposal(root, propose_abstraction(_only(index), index))
    shared = (root / "stacks/compose.shared.yaml").read_bytes()
    assert b"\r" not in shared and b"  backend:\n    driver: bridge\n" in shared
    for path in (API, WEB):
        data = (root / path).read_bytes()
        assert data.count(b"\r\n") == data.count(b"\n")
        assert b"include:\r\n  - ../compose.shared.yaml\r\n" in data
    assert _blocks(build_index(root)) == []


# --- refusals -----------------------------------------------------------------------------------------

CONFIGS = """\
services:
  app:
    image: app:1
    configs: [app-config]

configs:
  app-config:
    file: {path}
    labels:
      owner: platform
      tier: backend
"""


def test_a_relative_path_is_not_moved_into_another_folder(make_repo: MakeRepo) -> None:
    root = make_repo({"api/compose.yaml": CONFIGS.format(path="./app.toml"),
                      "web/compose.yaml": CONFIGS.format(path="./app.toml")})
    index = build_index(root)
    with pytest.raises(NotProposable, match=r"holds the relative path ./app.toml, which compose resolves"):
        propose_abstraction(_only(index), index)


def test_a_relative_path_is_shared_between_files_of_one_folder(make_repo: MakeRepo) -> None:
    root = make_repo({"compose.yaml": CONFIGS.format(path="./app.toml"),
                      "compose.dev.yaml": CONFIGS.format(path="./app.toml")})
    index = build_index(root)
    apply_proposal(root, propose_abstraction(_only(index), index))
    assert _doc(root, "compose.shared.yaml")["configs"]["app-config"]["file"] == "./app.toml"
    assert _doc(root, "compose.dev.yaml")["include"] == ["compose.shared.yaml"]


def test_a_bind_device_path_is_relative_too(make_repo: MakeRepo) -> None:
    volume = ("services:\n  db:\n    image: postgres:16\nvolumes:\n  data:\n    driver: local\n"
              "    driver_opts:\n      type: none\n      o: bind\n      device: data/pg\n")
    root = make_repo({"a/compose.yaml": volume, "b/compose.yaml": volume})
    index = build_index(root)
    with pytest.raises(NotProposable, match="relative path data/pg"):
        compose_include(_only(index), index)


def test_variables_are_not_moved_next_to_another_env_file(make_repo: MakeRepo) -> None:
    stack = CONFIGS.format(path="${CONFIG_DIR}/app.toml")
    root = make_repo({"api/compose.yaml": stack, "web/compose.yaml": stack, ".env": "CONFIG_DIR=/etc/app\n"})
    index = build_index(root)
    with pytest.raises(NotProposable, match=r"interpolated with the \.env of its own folder"):
        propose_abstraction(_only(index), index)


def test_x_blocks_keep_their_reason(make_repo: MakeRepo) -> None:
    block = ("x-logging: &logging\n  driver: json-file\n  options:\n    max-size: 10m\n    max-file: '3'\n"
             "services:\n  app:\n    image: app:1\n    logging: *logging\n")
    root = make_repo({"a/compose.yaml": block, "b/compose.yaml": block})
    index = build_index(root)
    cluster = _only(index)
    with pytest.raises(NotProposable, match="`include:` does not carry `x-` blocks"):
        propose_abstraction(cluster, index)


def test_copies_under_different_names_are_refused(make_repo: MakeRepo) -> None:
    root = make_repo({API: STACK.format(svc="api"),
                      WEB: STACK.format(svc="web").replace("  backend:", "  private:")})
    index = build_index(root)
    with pytest.raises(NotProposable, match="the copies are named differently"):
        propose_abstraction(_only(index), index)


def test_copies_differing_in_a_name_the_scan_ignores_are_refused(make_repo: MakeRepo) -> None:
    named = STACK.replace("    driver: bridge\n    driver_opts",
                          "    name: {svc}-backend\n    driver: bridge\n    driver_opts")
    root = make_repo({API: named.format(svc="api"), WEB: named.format(svc="web")})
    index = build_index(root)
    with pytest.raises(NotProposable, match="is not written exactly as in"):
        propose_abstraction(_only(index), index)


def test_copies_with_differing_values_are_refused(make_repo: MakeRepo) -> None:
    root = make_repo({API: STACK.format(svc="api"),
                      WEB: STACK.format(svc="web").replace("172.28.0.0/16", "172.29.0.0/16")})
    index = build_index(root)
    cluster = _only(index)
    assert not cluster.exact
    with pytest.raises(NotProposable, match=r"the copies differ in .*only identical copies can share it"):
        propose_abstraction(cluster, index)


def test_an_inline_include_list_is_refused(make_repo: MakeRepo) -> None:
    root = make_repo({API: "include: [../x.yaml]\n" + STACK.format(svc="api"), WEB: STACK.format(svc="web")})
    index = build_index(root)
    with pytest.raises(NotProposable, match=f"{API}: its `include:` is not a block list"):
        propose_abstraction(_only(index), index)


def test_an_inline_block_is_refused(make_repo: MakeRepo) -> None:
    inline = ("services:\n  app:\n    image: app:1\nvolumes: {data: {driver: local,\n"
              "  labels: {owner: platform,\n    tier: backend,\n    team: storage}}}\n")
    root = make_repo({"a/compose.yaml": inline, "b/compose.yaml": inline})
    index = build_index(root)
    with pytest.raises(NotProposable, match="`volumes:` is written inline; write it as a block first"):
        propose_abstraction(_blocks(index)[0], index)


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0,
    reason="Docker Compose v2 (`docker compose`) is not installed; include needs Compose 2.20+",
)
def test_docker_compose_accepts_the_rewritten_files(make_repo: MakeRepo) -> None:
    root = make_repo({API: STACK.format(svc="api"), WEB: STACK.format(svc="web")})
    index = build_index(root)
    apply_proposal(root, propose_abstraction(_only(index), index))
    for path in (API, WEB):
        done = subprocess.run(["docker", "compose", "-f", str(root / path), "config", "--quiet"],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
