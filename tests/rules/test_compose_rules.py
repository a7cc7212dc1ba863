"""DT-C rules on realistic Compose files: exact positions, negatives, merges and suppressions."""

from __future__ import annotations

import pytest

from core.models import Finding
from core.rules.compose import parse_port
from core.rules.containers import image_tag_problem
from core.scan import scan_text
from tests.rules.support import sliced, spans


def scan(text: str, rule_id: str, path: str = "docker-compose.yml") -> list[Finding]:
    return [f for f in scan_text(path, text) if f.rule_id == rule_id]


STACK = """\
# Local development stack
services:
  api:
    build: ./api
    image: shop/api:latest
    ports:
      - "8000:8000"
    environment:
      DATABASE_HOST: db
      DB_PASSWORD: s3cr3t-Pa55word-2024
      API_TOKEN: ${API_TOKEN}
    cap_drop: [ALL]
    security_opt:
      - no-new-privileges:true

  worker:
    image: shop/worker:1.4.0
    privileged: true
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - ./jobs:/jobs

  db:
    image: postgres:latest
    ports:
      - "0.0.0.0:5432:5432"
    environment:
      - POSTGRES_USER=api
      - POSTGRES_PASSWORD=Xk9-vq2LmT7zR4pW
    volumes:
      - db-data:/var/lib/postgresql/data

volumes:
  db-data:
"""


# --------------------------------------------------------------------------- DT-C001 privileged


def test_privileged_points_at_key_and_value() -> None:
    found = scan(STACK, "DT-C001")
    assert spans(found) == [(18, 5, 18, 21)]
    assert "worker" in found[0].message


def test_privileged_false_is_fine() -> None:
    text = STACK.replace("privileged: true", "privileged: false")
    assert scan(text, "DT-C001") == []


MERGED = """\
x-hardened: &hardened
  restart: unless-stopped
  privileged: true
  cap_add:
    - SYS_ADMIN

services:
  agent:
    <<: *hardened
    image: corp/agent:2.1
  collector:
    <<: *hardened
    image: corp/collector:2.1
    privileged: false
"""


def test_merged_anchor_findings_land_on_the_anchor_line() -> None:
    found = scan(MERGED, "DT-C001")
    # `collector` overrides the merged value explicitly, so only `agent` is privileged
    assert spans(found) == [(3, 3, 3, 19)]
    assert "'agent'" in found[0].message
    caps = scan(MERGED, "DT-C008")
    assert spans(caps) == [(5, 7, 5, 16), (5, 7, 5, 16)]
    assert {f.fingerprint for f in caps} != {caps[0].fingerprint}  # one finding per service


# --------------------------------------------------------------------------- DT-C002 / DT-C003 mounts


def test_docker_socket_short_and_long_syntax() -> None:
    text = """\
services:
  ci-runner:
    image: gitlab/gitlab-runner:v16.10.0
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - type: bind
        source: /run/docker.sock
        target: /var/run/docker.sock
      - runner-config:/etc/gitlab-runner
volumes:
  runner-config:
"""
    found = scan(text, "DT-C002")
    assert spans(found) == [(5, 9, 5, 53), (7, 17, 7, 33)]
    assert scan(text, "DT-C003") == []  # the socket is reported once, by DT-C002


def test_sensitive_host_paths() -> None:
    text = """\
services:
  node-exporter:
    image: prom/node-exporter:v1.8.1
    volumes:
      - /:/host:ro
      - /proc:/host/proc:ro
      - /etc/localtime:/etc/localtime:ro
      - ./config:/config
      - /srv/exporter:/data
  deployer:
    image: corp/deployer:3.0
    volumes:
      - ~/.ssh:/root/.ssh:ro
      - ${HOME}/.aws:/root/.aws
      - type: bind
        source: /etc
        target: /host-etc
"""
    found = scan(text, "DT-C003")
    assert spans(found) == [(5, 9, 5, 19), (6, 9, 6, 28), (13, 9, 13, 29), (14, 9, 14, 32), (16, 17, 16, 21)]
    assert sliced(text, found) == ["/:/host:ro", "/proc:/host/proc:ro", "~/.ssh:/root/.ssh:ro",
                                   "${HOME}/.aws:/root/.aws", "/etc"]
    assert "root filesystem (read-only)" in found[0].message
    assert "credential store (.aws) (read-write)" in found[3].message


def test_named_volumes_are_not_host_paths() -> None:
    text = """\
services:
  dind:
    image: docker:26.1-dind
    volumes:
      - docker-data:/var/lib/docker
      - type: volume
        source: certs
        target: /certs
volumes:
  docker-data:
  certs:
"""
    assert scan(text, "DT-C002") == [] and scan(text, "DT-C003") == []


# --------------------------------------------------------------------------- DT-C004..C007 namespaces


NAMESPACES = """\
services:
  monitor:
    image: corp/monitor:5.2
    network_mode: host
    pid: host
    ipc: host
    userns_mode: host
  app:
    image: corp/app:5.2
    network_mode: "service:vpn"
    ipc: shareable
"""


@pytest.mark.parametrize(
    ("rule_id", "line", "end"),
    [("DT-C004", 4, 23), ("DT-C005", 5, 14), ("DT-C006", 6, 14), ("DT-C007", 7, 22)],
)
def test_host_namespaces(rule_id: str, line: int, end: int) -> None:
    found = scan(NAMESPACES, rule_id)
    assert spans(found) == [(line, 5, line, end)]
    assert "'monitor'" in found[0].message


# --------------------------------------------------------------------------- DT-C008/C009 capabilities


CAPS = """\
services:
  vpn:
    image: corp/vpn:1.0
    cap_add:
      - NET_ADMIN
      - NET_BIND_SERVICE
      - cap_sys_ptrace
    cap_drop:
      - ALL
  web:
    image: nginx:1.27
    cap_drop:
      - NET_RAW
"""


def test_dangerous_capabilities() -> None:
    found = scan(CAPS, "DT-C008")
    assert spans(found) == [(5, 9, 5, 18), (7, 9, 7, 23)]
    assert "SYS_PTRACE" in found[1].message


def test_capabilities_not_dropped() -> None:
    found = scan(CAPS, "DT-C009")
    assert spans(found) == [(12, 5, 12, 13)]  # on web's cap_drop key: ALL is missing there
    assert "'web'" in found[0].message
    plain = scan("services:\n  cache:\n    image: memcached:1.6\n", "DT-C009")
    assert spans(plain) == [(2, 3, 2, 8)]


# --------------------------------------------------------------------------- DT-C010/C011 security_opt


def test_unconfined_profiles_and_no_new_privileges() -> None:
    text = """\
services:
  builder:
    image: moby/buildkit:v0.13.2
    security_opt:
      - seccomp:unconfined
      - apparmor=unconfined
      - no-new-privileges:false
  api:
    image: corp/api:2.0
    security_opt:
      - no-new-privileges:true
"""
    assert spans(scan(text, "DT-C010")) == [(5, 9, 5, 27), (6, 9, 6, 28)]
    assert spans(scan(text, "DT-C011")) == [(4, 5, 4, 17)]  # false does not count


# --------------------------------------------------------------------------- DT-C012 ports


PORTS = """\
services:
  db:
    image: postgres:16.3
    ports:
      - "5432:5432"
      - "127.0.0.1:5433:5432"
  cache:
    image: redis:7.2
    ports:
      - 6379
      - "[::1]:6380:6379"
  search:
    image: elasticsearch:8.13.4
    ports:
      - "[::]:9200:9200"
      - target: 9300
        published: "9300"
      - target: 9300
        published: "9301"
        host_ip: 127.0.0.1
  adminer:
    image: adminer:4.8.1
    ports:
      - "8081:8080"
  web:
    image: nginx:1.27
    ports:
      - "8080:80"
      - "10.0.0.5:5432:5432"
"""


def test_sensitive_ports_on_all_interfaces() -> None:
    found = scan(PORTS, "DT-C012")
    assert spans(found) == [(5, 9, 5, 20), (10, 9, 10, 13), (15, 9, 15, 25), (17, 20, 17, 26),
                            (24, 9, 24, 20)]
    assert sliced(PORTS, found) == ['"5432:5432"', "6379", '"[::]:9200:9200"', '"9300"', '"8081:8080"']
    assert "PostgreSQL port 5432" in found[0].message
    assert "adminer admin UI" in found[-1].message
    assert ("host_ip", "127.0.0.1") in found[0].extra


# --------------------------------------------------------------------------- DT-C013/C014 secrets


def test_environment_secrets_mapping_and_list_forms() -> None:
    found = scan(STACK, "DT-C013")
    assert spans(found) == [(10, 20, 10, 40), (29, 27, 29, 43)]
    assert sliced(STACK, found) == ["s3cr3t-Pa55word-2024", "Xk9-vq2LmT7zR4pW"]
    for finding, value in zip(found, ("s3cr3t-Pa55word-2024", "Xk9-vq2LmT7zR4pW"), strict=True):
        assert value not in finding.message
        assert "sha256:" in finding.message


def test_secret_findings_carry_no_raw_value_anywhere() -> None:
    found = scan(STACK, "DT-C013")
    assert found and all("s3cr3t" not in f.snippet + f.message + repr(f.extra) for f in found)


def test_references_and_placeholders_are_not_secrets() -> None:
    text = """\
services:
  app:
    image: corp/app:1.0
    environment:
      DB_PASSWORD: ${DB_PASSWORD}
      API_KEY: changeme
      SECRET_KEY_FILE: /run/secrets/secret_key
      - ignored
    build:
      context: .
      args:
        - NPM_TOKEN=${NPM_TOKEN}
"""
    text = text.replace("      - ignored\n", "")
    assert scan(text, "DT-C013") == [] and scan(text, "DT-C014") == []


def test_build_arg_secret() -> None:
    text = """\
services:
  web:
    build:
      context: ./web
      args:
        NODE_ENV: production
        NPM_TOKEN: npm_k8Dh2LqP0aZx9WmR4tYv
    image: corp/web:3.1
"""
    found = scan(text, "DT-C014")
    assert spans(found) == [(7, 20, 7, 44)]
    assert "npm_k8Dh2LqP0aZx9WmR4tYv" not in found[0].message


# --------------------------------------------------------------------------- DT-C015 images


def test_unpinned_images() -> None:
    text = """\
services:
  db:
    image: postgres:latest
  cache:
    image: redis
  private:
    image: registry.local:5000/team/app
  pinned:
    image: nginx:1.27.0
  digest:
    image: postgres@sha256:4d2b2d0ab2b2e3d3c9e46b1f6a0e6c7a0ff1d2a0b0c0d0e0f0a0b0c0d0e0f0a0b
  built:
    build: .
    image: corp/built:latest
  templated:
    image: ${REGISTRY}/app:${TAG:-latest}
"""
    found = scan(text, "DT-C015")
    assert spans(found) == [(3, 12, 3, 27), (5, 12, 5, 17), (7, 12, 7, 40)]
    assert "no tag" in found[1].message


# --------------------------------------------------------------------------- suppressions


def test_our_pragma_on_line_or_line_above() -> None:
    pragma = "    # devops-tui: ignore[DT-C001]\n"
    above = STACK.replace("    privileged: true\n", pragma + "    privileged: true\n")
    inline = STACK.replace("privileged: true", "privileged: true  # devops-tui: ignore[DT-C001]")
    other = STACK.replace("privileged: true", "privileged: true  # devops-tui: ignore[DT-C002]")
    assert scan(above, "DT-C001") == [] and scan(inline, "DT-C001") == []
    assert len(scan(other, "DT-C001")) == 1


def test_files_without_services_are_quiet() -> None:
    text = "# no services yet\nversion: '3.9'\nvolumes:\n  data: {}\n"
    assert [f for f in scan_text("docker-compose.yml", text) if f.rule_id.startswith("DT-C")] == []


MALFORMED = [
    "services:\n  web:\n",
    "services: [web, db]\n",
    "services:\n  web:\n    ports: 5432\n    volumes: /etc:/etc\n    cap_add: SYS_ADMIN\n"
    "    environment: A=b\n",
    "services:\n  web:\n    ports: [{target: x}, {published: 1}, '99999:5432', 'a:b:c:d']\n"
    "    volumes: [{source: 1}, {type: volume}]\n    environment: [{a: b}, '=x']\n    build: {args: 1}\n",
    "services:\n  web:\n    image: [nginx]\n    security_opt: {a: b}\n",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_services_never_crash_a_rule(text: str) -> None:
    found = scan_text("docker-compose.yml", text)
    assert [f.message for f in found if f.rule_id == "DT-X001"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5432", ("", range(5432, 5433), None)),
        ("0.0.0.0:5432:5432/tcp", ("0.0.0.0", range(5432, 5433), range(5432, 5433))),
        ("127.0.0.1::6379", ("127.0.0.1", range(6379, 6380), None)),
        ("[::1]:9200-9201:9200-9201", ("::1", range(9200, 9202), range(9200, 9202))),
        ("fe80::1:8080:80", ("fe80::1", range(80, 81), range(8080, 8081))),
        ("${PORT}:80", ("", range(80, 81), None)),  # a variable host port still listens everywhere
        ("${BIND}:5432:5432", ("${BIND}", range(5432, 5433), range(5432, 5433))),
        ("db:5432", None),
    ],
)
def test_parse_port(text: str, expected: tuple[str, range, range | None] | None) -> None:
    binding = parse_port(text)
    got = None if binding is None else (binding.host_ip, binding.container_ports, binding.host_ports)
    assert got == expected


@pytest.mark.parametrize(
    ("ref", "problem"),
    [("nginx", "untagged"), ("nginx:latest", "latest"), ("registry:5000/app", "untagged"),
     ("registry:5000/app:1.2", None), ("app@sha256:abc", None), ("${IMAGE}", None), ("ghcr.io/a/b:v1", None)],
)
def test_image_tag_problem(ref: str, problem: str | None) -> None:
    assert image_tag_problem(ref) == problem
