"""The units beyond steps and jobs: RUN bodies split into commands, whole Dockerfile stages, and compose
top-level blocks — with exact line spans, groups across files, and the anchor proposal applied for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.discovery import build_index
from core.dockerfile import parse_dockerfile
from core.dupes.model import DuplicateCluster
from core.dupes.propose import NotProposable, propose_abstraction
from core.dupes.scan import find_clones
from core.dupes.units import units_of
from core.patching import apply_proposal
from core.yamlnodes import compose_documents, get, to_python


def _spans(cluster: DuplicateCluster) -> list[tuple[str, int, int]]:
    return sorted((o.path, o.start_line, o.end_line) for o in cluster.occurrences)


def _groups(root: Path, category: str) -> list[DuplicateCluster]:
    return [c for c in find_clones(build_index(root)) if c.category == category]


# --- RUN split into commands -------------------------------------------------------------------------

CONTINUED = """\
FROM python:3.12-slim AS app
WORKDIR /app
RUN set -eux; \\
    apt-get update && \\
    # a comment inside the continuation
    apt-get install -y --no-install-recommends \\
        curl ca-certificates && \\
    rm -rf /var/lib/apt/lists/* && \\
    (cd /tmp && make) && \\
    if [ -f x ]; then echo yes; fi
RUN curl -fsS https://example.com/health | grep ok || exit 1
RUN ["echo", "exec form has no commands"]
"""


def test_commands_of_a_continued_run_span_their_own_lines(make_folder):
    root = make_folder({"Dockerfile": CONTINUED})
    parsed = build_index(root).parsed["Dockerfile"]
    commands = [u for u in units_of(parsed) if u.category == "docker-command"]
    assert [(u.container, u.index, u.start_line, u.end_line) for u in commands] == [
        ("stage 0 line 3", 0, 3, 3),
        ("stage 0 line 3", 1, 4, 4),
        ("stage 0 line 3", 2, 6, 7),  # the comment line does not split it; the wrapped line belongs to it
        ("stage 0 line 3", 3, 8, 8),
        ("stage 0 line 3", 4, 9, 9),  # a subshell stays one command
        ("stage 0 line 3", 5, 10, 10),  # so does an `if … fi`
    ]  # the RUN on line 11 is one pipeline (with `||`): one command, so no run of commands starts there
    assert commands[2].form == {"RUN": {"$shell": ["apt-get", "install", "-y", "--no-install-recommends",
                                                   "curl", "ca-certificates"]}}
    assert commands[5].form["RUN"]["$shell"][0] == "if"


def test_commands_of_a_single_line_run_all_sit_on_that_line(make_folder):
    text = "FROM alpine\nRUN apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/*\n"
    root = make_folder({"Dockerfile": text})
    commands = [u for u in units_of(build_index(root).parsed["Dockerfile"]) if u.category == "docker-command"]
    assert [(u.index, u.start_line, u.end_line, u.label) for u in commands] == [
        (0, 2, 2, "line 2 apt-get"), (1, 2, 2, "line 2 apt-get"), (2, 2, 2, "line 2 rm")]
    assert [u.form["RUN"]["$shell"][-1] for u in commands] == ["update", "curl", "/var/lib/apt/lists/*"]


CHAIN = """\
    apt-get update && \\
    apt-get install -y --no-install-recommends curl && \\
    apt-get clean && \\
    rm -rf /var/lib/apt/lists/*"""


def test_the_same_chain_inside_different_runs_forms_one_group(make_repo):
    root = make_repo({
        "api/Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nRUN pip install --no-cache-dir poetry && \\\n"
                          + CHAIN + "\nCOPY . .\n",
        "web/Dockerfile": "FROM node:20\nRUN set -eux; \\\n" + CHAIN + " && \\\n    npm ci\n"
                          "CMD [\"node\", \"server.js\"]\n",
    })
    index = build_index(root)
    (cluster,) = [c for c in find_clones(index) if c.category == "docker-commands"]
    assert _spans(cluster) == [("api/Dockerfile", 4, 7), ("web/Dockerfile", 3, 6)]
    assert cluster.units_each == 4 and cluster.exact and cluster.parameters == ()
    with pytest.raises(NotProposable, match="COPYs and RUNs"):
        propose_abstraction(cluster, index)


def test_a_chain_inside_a_repeated_instruction_run_is_not_listed_twice(make_repo):
    dockerfile = ("FROM python:3.12-slim\nRUN set -eux; \\\n" + CHAIN + "\nWORKDIR /app\n"
                  "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY {name}/ .\n")
    root = make_repo({f"{n}/Dockerfile": dockerfile.format(name=n) for n in ("api", "worker")})
    clusters = find_clones(build_index(root))
    (run,) = [c for c in clusters if c.category == "docker-run"]
    assert _spans(run) == [("api/Dockerfile", 2, 10), ("worker/Dockerfile", 2, 10)]
    assert [c for c in clusters if c.category == "docker-commands"] == []


# --- whole stages -------------------------------------------------------------------------------------

BUILD_STAGE = """\
FROM {image} AS {name}
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM gcr.io/distroless/static
COPY --from={name} /out/app /{binary}
ENTRYPOINT ["/{binary}"]
"""


def _stage_repo(make_repo, images: tuple[str, str]) -> Path:
    return make_repo({
        "svc-a/Dockerfile": BUILD_STAGE.format(image=images[0], name="build", binary="a"),
        "svc-b/Dockerfile": BUILD_STAGE.format(image=images[1], name="builder", binary="b"),
    })


def test_identical_stages_with_different_bases_group_with_the_base_as_parameter(make_repo):
    root = _stage_repo(make_repo, ("golang:1.22", "golang:1.21"))
    index = build_index(root)
    clusters = find_clones(index)
    (stage,) = [c for c in clusters if c.category == "docker-stage"]
    assert _spans(stage) == [("svc-a/Dockerfile", 1, 6), ("svc-b/Dockerfile", 1, 6)]
    assert [(p.name, p.values) for p in stage.parameters] == [("from", ("golang:1.22", "golang:1.21"))]
    assert [c for c in clusters if c.category in ("docker-run", "docker-commands")] == []
    with pytest.raises(NotProposable, match=r"apart from their FROM image \(golang:1.22, golang:1.21\)"):
        propose_abstraction(stage, index)


def test_identical_stages_on_one_base_become_a_shared_base_image(make_repo):
    root = _stage_repo(make_repo, ("golang:1.22", "golang:1.22"))
    index = build_index(root)
    (stage,) = [c for c in find_clones(index) if c.category == "docker-stage"]
    assert stage.exact and stage.abstraction == "docker-base-stage"
    proposal = propose_abstraction(stage, index)
    assert "stage shared by 2 Dockerfiles" in proposal.title
    apply_proposal(root, proposal)

    base = parse_dockerfile((root / "docker/base.Dockerfile").read_text())
    assert not base.problems
    assert (base.instructions[0].keyword, base.instructions[0].args) == ("FROM", "golang:1.22")
    assert len(base.instructions) == 6
    for name in ("build", "builder"):
        path = "svc-a/Dockerfile" if name == "build" else "svc-b/Dockerfile"
        rewritten = parse_dockerfile((root / path).read_text())
        assert not rewritten.problems
        froms = [i.args for i in rewritten.instructions if i.keyword == "FROM"]
        assert froms[0] == f"${{BASE_IMAGE}} AS {name}"
        assert not any("go mod download" in i.args for i in rewritten.instructions)
    assert _groups(root, "docker-stage") == []


def test_identical_stages_in_one_dockerfile_build_from_the_first(make_repo):
    second = BUILD_STAGE.split("\n\n")[0].format(image="golang:1.22", name="build-cli")
    text = BUILD_STAGE.format(image="golang:1.22", name="build", binary="a") + "\n" + second + "\n"
    root = make_repo({"Dockerfile": text})
    index = build_index(root)
    (stage,) = [c for c in find_clones(index) if c.category == "docker-stage"]
    assert _spans(stage) == [("Dockerfile", 1, 6), ("Dockerfile", 12, 17)]
    apply_proposal(root, propose_abstraction(stage, index))

    new_text = (root / "Dockerfile").read_text()
    assert new_text.endswith("ENTRYPOINT [\"/a\"]\n\nFROM build AS build-cli\n")
    assert new_text.count("go mod download") == 1
    rewritten = parse_dockerfile(new_text)
    assert not rewritten.problems and [s.base for s in rewritten.stages][-1] == "build"
    assert _groups(root, "docker-stage") == []


# --- compose top-level blocks --------------------------------------------------------------------------

BLOCKS = """\
x-logging: &logging
  driver: json-file
  options:
    max-size: "10m"
    max-file: "3"

services:
  {service}:
    image: {service}:1
    logging: *logging

networks:
  backend:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.name: br-backend
    ipam:
      config:
        - subnet: 172.28.0.0/16

volumes:
  pgdata:
    driver: local
    driver_opts:
      type: none
      o: bind
      device: /srv/pgdata
"""


def test_x_blocks_networks_and_volumes_repeated_across_files_form_groups(make_repo):
    root = make_repo({"api/docker-compose.yml": BLOCKS.format(service="api"),
                      "web/compose.yaml": BLOCKS.format(service="web")})
    index = build_index(root)
    blocks = sorted((c for c in find_clones(index) if c.category == "compose-block"),
                    key=lambda c: c.occurrences[0].start_line)
    assert [(c.occurrences[0].label, _spans(c)) for c in blocks] == [
        ("x-logging", [("api/docker-compose.yml", 1, 5), ("web/compose.yaml", 1, 5)]),
        ("networks", [("api/docker-compose.yml", 12, 19), ("web/compose.yaml", 12, 19)]),
        ("volumes", [("api/docker-compose.yml", 21, 27), ("web/compose.yaml", 21, 27)]),
    ]
    assert all(c.exact and c.abstraction == "compose-include" for c in blocks)
    assert "compose.shared.yaml" in propose_abstraction(blocks[1], index).paths  # see test_compose_include
    with pytest.raises(NotProposable, match="does not carry `x-` blocks"):
        propose_abstraction(blocks[0], index)


def test_blocks_differing_in_one_value_group_with_that_value_as_parameter(make_repo):
    other = BLOCKS.format(service="web").replace("br-backend", "br-web")
    root = make_repo({"api/docker-compose.yml": BLOCKS.format(service="api"), "web/compose.yaml": other})
    blocks = _groups(root, "compose-block")
    # the whole `networks:` block holds the differing entry, so it is listed and the entry is not
    (network,) = [c for c in blocks if c.occurrences[0].label.startswith("networks")]
    assert network.occurrences[0].label == "networks" and not network.exact
    assert [p.values for p in network.parameters] == [("br-backend", "br-web")]
    assert _spans(network) == [("api/docker-compose.yml", 12, 19), ("web/compose.yaml", 12, 19)]


ONE_FILE = """\
x-logging: &logging
  driver: json-file
  options:
    max-size: "10m"
    max-file: "3"
x-audit-logging:  # same as above, for now
  driver: json-file
  options:
    max-size: "10m"
    max-file: "3"

services:
  api:
    image: api:1
    logging: *logging
    networks: [frontend, backend]

networks:
  frontend:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_icc: "false"
    labels:
      tier: edge
  backend:  # internal
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_icc: "false"
    labels:
      tier: edge
volumes:
  data:
"""


def test_identical_blocks_in_one_file_become_an_anchor_and_aliases(make_repo):
    root = make_repo({"docker-compose.yml": ONE_FILE})
    index = build_index(root)
    before = to_python(index.parsed["docker-compose.yml"].docs[0])
    blocks = sorted(_groups(root, "compose-block"), key=lambda c: c.occurrences[0].start_line)
    assert [(c.abstraction, _spans(c)) for c in blocks] == [
        ("yaml-anchor", [("docker-compose.yml", 1, 5), ("docker-compose.yml", 6, 10)]),
        ("yaml-anchor", [("docker-compose.yml", 19, 24), ("docker-compose.yml", 25, 30)]),
    ]
    for cluster in blocks:  # each proposal is made against the file as it is now
        index = build_index(root)
        (fresh,) = [c for c in find_clones(index) if c.category == "compose-block"
                    and c.occurrences[0].label == cluster.occurrences[0].label]
        apply_proposal(root, propose_abstraction(fresh, index))

    text = (root / "docker-compose.yml").read_text()
    assert "x-logging: &logging\n" in text  # the anchor it had is kept, not doubled
    assert "x-audit-logging: *logging  # same as above, for now\n" in text
    assert "  frontend: &frontend\n" in text and "  backend: *frontend  # internal\n" in text
    assert "<<" not in text and text.count("json-file") == 1
    docs, problem = compose_documents(text)
    assert problem is None and to_python(docs[0]) == before
    assert get(get(docs[0], "networks"), "backend") is get(get(docs[0], "networks"), "frontend")
    after = build_index(root)
    assert after.parsed["docker-compose.yml"].problem is None
    assert [c for c in find_clones(after) if c.category == "compose-block"] == []


def test_blocks_that_differ_in_one_file_get_no_alias(make_repo):
    differing = ONE_FILE.replace("tier: edge\n  backend", "tier: core\n  backend")
    root = make_repo({"docker-compose.yml": differing})
    index = build_index(root)
    (network,) = [c for c in find_clones(index) if c.occurrences[0].label == "networks.frontend"]
    assert not network.exact
    with pytest.raises(NotProposable, match="an alias can only stand for an identical block"):
        propose_abstraction(network, index)
