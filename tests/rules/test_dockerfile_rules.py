"""Dockerfile rules DT-D001…DT-D037 on realistic Dockerfiles: exact positions, negatives, suppressions."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from core.models import Finding, Position
from core.rules.base import registered_rules
from core.scan import scan_text


def scan(text: str, path: str = "Dockerfile", paths: Iterable[str] = ()) -> list[Finding]:
    return scan_text(path, text, paths=paths)


def where(text: str, rule_id: str, path: str = "Dockerfile",
          paths: Iterable[str] = ()) -> list[tuple[int, int]]:
    """(line, column) of every finding of `rule_id`."""
    return [(f.position.line, f.position.column) for f in scan(text, path, paths) if f.rule_id == rule_id]


def spans(text: str, rule_id: str, **kw: object) -> list[Position]:
    return [f.position for f in scan(text, **kw) if f.rule_id == rule_id]  # type: ignore[arg-type]


def findings(text: str, rule_id: str, **kw: object) -> list[Finding]:
    return [f for f in scan(text, **kw) if f.rule_id == rule_id]  # type: ignore[arg-type]


# A clean, realistic multi-stage Dockerfile: no D rule may fire on it.
CLEAN = r"""# syntax=docker/dockerfile:1.7
ARG PYTHON=python:3.12-slim
FROM ${PYTHON} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential=12.9 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
RUN curl -fsSL https://example.com/tool.tgz | tar -xz -C /opt

FROM ${PYTHON}
RUN useradd --create-home --uid 10001 app
COPY --from=build /opt /opt
COPY --chown=app src/ /app/
WORKDIR /app
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://localhost:8000')"]
ENTRYPOINT ["python", "-m", "app"]
"""


def test_clean_dockerfile_has_no_dockerfile_findings() -> None:
    assert [f.rule_id for f in scan(CLEAN) if f.rule_id.startswith("DT-D")] == []


def test_every_rule_has_help_aliases_format_and_unique_ids() -> None:
    rules = {k: r for k, r in registered_rules().items() if k.startswith("DT-D")}
    assert len(rules) == 37
    for rule in rules.values():
        assert rule.help.count(".") >= 2 and len(rule.help) > 80, rule.id
        assert all(":" in a and a.split(":", 1)[0] in {"hadolint", "checkov", "trivy", "kics"}
                   for a in rule.aliases), rule.id


# ------------------------------------------------------------------------------------- base images

def test_untagged_base_points_at_the_image_and_resolves_args() -> None:
    text = "ARG BASE=ubuntu\nFROM ${BASE} AS build\nRUN make\nFROM --platform=linux/amd64 debian\n"
    assert spans(text, "DT-D001") == [Position(2, 6, 2, 13), Position(4, 29, 4, 35)]
    message = findings(text, "DT-D001")[0].message
    assert "'ubuntu'" in message and "ARG BASE on line 1" in message


@pytest.mark.parametrize("text", [
    "FROM scratch\nCOPY app /\n",
    "FROM golang:1.22 AS build\nRUN go build\nFROM build AS test\nRUN go test\n",
    "FROM python@sha256:" + "a" * 64 + "\n",
    "ARG BASE\nFROM $BASE\n",  # decided at build time
    "FROM registry.local:5000/team/app:1.4\n",
    "ARG FLAVOR=slim\nFROM node:20-bookworm AS base-slim\nFROM base-${FLAVOR}\n",
])
def test_untagged_base_negatives(text: str) -> None:
    assert where(text, "DT-D001") == [] and where(text, "DT-D002") == []


def test_registry_port_is_not_a_tag() -> None:
    assert where("FROM registry.local:5000/team/app\n", "DT-D001") == [(1, 6)]


def test_latest_base_and_negative() -> None:
    assert spans("FROM node:latest AS web\nRUN npm ci\n", "DT-D002") == [Position(1, 6, 1, 17)]
    assert where("FROM node:20.11-alpine\n", "DT-D002") == []


# ------------------------------------------------------------------------------------------- users

def test_final_user_root_only_in_final_stage() -> None:
    text = ("FROM alpine:3.19 AS build\nUSER root\nRUN make\n"
            "FROM alpine:3.19\nUSER app\nUSER 0:0\nCMD [\"app\"]\n")
    assert spans(text, "DT-D003") == [Position(6, 6, 6, 9)]
    assert where(text.replace("USER 0:0\n", ""), "DT-D003") == []


def test_final_user_inherited_from_parent_stage() -> None:
    text = "FROM alpine:3.19 AS base\nRUN adduser -D app\nUSER app\nFROM base\nCMD [\"app\"]\n"
    assert where(text, "DT-D003") == [] and where(text, "DT-D004") == []
    assert where(text.replace("USER app", "USER root"), "DT-D003") == [(3, 6)]


def test_no_user_in_final_stage() -> None:
    text = ("FROM python:3.12 AS build\nUSER builder\nRUN pip wheel .\n"
            "FROM python:3.12-slim\nCOPY --from=build /w /w\n")
    assert spans(text, "DT-D004") == [Position(4, 1, 4, 22)]


def test_no_user_negative_for_nonroot_base() -> None:
    assert where("FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /\n", "DT-D004") == []


# ----------------------------------------------------------------------------------------- secrets

SECRET_FILE = r"""FROM node:20-alpine
ARG NPM_TOKEN
ENV APP_ENV=production \
    STRIPE_API_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXmpl
ENV DB_PASSWORD changeme
ENV SESSION_SECRET=${SESSION_SECRET}
ARG CERT_FILE=/run/secrets/cert
"""


def test_secret_value_in_env_points_at_value_and_is_redacted() -> None:
    found = findings(SECRET_FILE, "DT-D005")
    assert [f.position for f in found] == [Position(4, 20, 4, 53)]
    assert "sk_live_51HqLyjWDarjtT1zdp7dcXmpl" not in found[0].message
    assert "sk_l…[sha256:" in found[0].message


def test_secret_passed_through_arg_env() -> None:
    assert spans(SECRET_FILE, "DT-D006") == [Position(2, 5, 2, 14), Position(6, 5, 6, 19)]


def test_secret_passed_through_only_matters_in_final_image() -> None:
    text = "FROM node:20 AS deps\nARG NPM_TOKEN\nRUN npm ci\nFROM node:20-slim\nCOPY --from=deps /n /n\n"
    assert where(text, "DT-D006") == []


def test_secret_default_in_arg_before_from() -> None:
    text = "ARG GITHUB_TOKEN=ghp_R4nd0mL00k1ngT0kenV4lue9xQ2wE5tY7uI\nFROM alpine:3.19\n"
    assert spans(text, "DT-D005") == [Position(1, 18, 1, 57)]


# --------------------------------------------------------------------------------------------- ADD

ADD_FILE = r"""FROM debian:12
ADD src/ /app/src/
ADD vendor.tar.gz /opt/vendor/
ADD https://example.com/tool-1.2.tar.gz /tmp/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://x.io/a /a
ADD https://github.com/moby/buildkit.git#v0.12.5 /buildkit
ADD ["docs dir/", "/usr/share/doc/app/"]
"""


def test_add_local_files() -> None:
    assert spans(ADD_FILE, "DT-D007") == [Position(2, 1, 2, 4), Position(7, 1, 7, 4)]


def test_add_remote_without_checksum() -> None:
    found = findings(ADD_FILE, "DT-D008")
    assert [f.position for f in found] == [Position(4, 5, 4, 40)]
    assert dict(found[0].extra)["url"] == "https://example.com/tool-1.2.tar.gz"


# --------------------------------------------------------------------------- sudo, TLS, signatures

def test_sudo_inside_continued_run() -> None:
    text = ("FROM ubuntu:22.04\nUSER app\nRUN echo start && \\\n    sudo -E apt-get update\n"
            "RUN apt-get install -y sudo\n")
    assert spans(text, "DT-D009") == [Position(4, 5, 4, 9)]


TLS_FILE = r"""FROM python:3.12-slim
RUN curl -fsSLk https://internal.example/ca.sh -o /tmp/ca.sh \
 && wget --no-check-certificate -q https://internal.example/x.tgz \
 && curl --cacert /etc/ssl/ca.pem -fsSL https://internal.example/ok
RUN pip install --trusted-host pypi.internal -i http://pypi.internal/simple flask==3.0.0 \
 && npm config set strict-ssl false \
 && git config --global http.sslVerify false \
 && git config --global http.sslVerify true \
 && echo "sslverify=0" >> /etc/yum.conf
ENV NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_ENV=production
RUN PYTHONHTTPSVERIFY=0 python fetch.py && export GIT_SSL_NO_VERIFY=1
ENV NODE_TLS_REJECT_UNAUTHORIZED=1
"""


def test_tls_disabled_for_downloads() -> None:
    assert spans(TLS_FILE, "DT-D010") == [Position(2, 10, 2, 16), Position(3, 10, 3, 32)]


def test_tls_disabled_in_tool_config() -> None:
    assert where(TLS_FILE, "DT-D011") == [(5, 17), (6, 20), (7, 25), (9, 10)]


def test_tls_disabled_by_environment() -> None:
    assert spans(TLS_FILE, "DT-D012") == [
        Position(10, 34, 10, 35), Position(11, 5, 11, 24), Position(11, 51, 11, 70),
    ]


UNSIGNED_FILE = r"""FROM rockylinux:9
RUN yum install -y --nogpgcheck httpd-2.4.57 \
 && rpm -i --nosignature /tmp/agent.rpm \
 && yum clean all
FROM debian:12
RUN apt-get update && apt-get install -y --allow-unauthenticated --no-install-recommends curl=7.88.1-10 \
 && echo "deb [trusted=yes] http://repo.internal/ stable main" > /etc/apt/sources.list.d/internal.list \
 && rm -rf /var/lib/apt/lists/*
FROM alpine:3.19
RUN apk add --no-cache --allow-untrusted /tmp/custom.apk
RUN apk add --no-cache curl=8.5.0-r0
"""


def test_unsigned_packages() -> None:
    assert where(UNSIGNED_FILE, "DT-D013") == [(2, 20), (3, 12), (6, 42), (7, 10), (10, 24)]


def test_curl_pipe_shell_variants() -> None:
    text = (
        "FROM debian:12\n"
        "RUN curl -fsSL https://get.example.sh \\\n"
        "    | sudo bash -s -- --yes\n"
        "RUN wget -qO- https://x.example/install | sh\n"
        "RUN sh -c \"$(curl -fsSL https://x.example/i.sh)\"\n"
        "RUN curl -fsSL -o /tmp/i.sh https://x.example/i.sh | cat\n"
        "RUN curl -fsSL https://x.example/a.tgz | tar -xz\n"
        "RUN wget -O /tmp/x https://x.example/x | sh\n"
    )
    found = spans(text, "DT-D014")
    assert found == [Position(2, 5, 3, 16), Position(4, 5, 4, 45), Position(5, 5, 5, 49)]


# ---------------------------------------------------------------------------------------- pipefail

def test_pipe_without_pipefail_points_at_the_pipe() -> None:
    text = ("FROM debian:12\nRUN apt-get update && \\\n"
            "    curl -fsSL https://x.example/k.asc | gpg --dearmor -o /k.gpg\n")
    assert spans(text, "DT-D015") == [Position(3, 40, 3, 41)]


@pytest.mark.parametrize("text", [
    "FROM debian:12\nRUN set -o pipefail && curl -fsSL https://x/k | gpg --dearmor -o /k\n",
    "FROM debian:12\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN curl -sL https://x/k | gpg\n",
    "FROM debian:12 AS base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nFROM base\nRUN a | b\n",
    "FROM windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Get-Item x | Out-Null\n",
    "FROM debian:12\nRUN [\"sh\", \"-c\", \"a | b\"]\n",
    "FROM debian:12\nRUN echo 'a | b' && grep -E \"x|y\" f\n",
])
def test_pipefail_negatives(text: str) -> None:
    assert where(text, "DT-D015") == []


def test_pipe_in_heredoc_body_and_python_heredoc_is_not_shell() -> None:
    text = "FROM python:3.12\nRUN <<EOF\napt-get update\ncat /etc/os-release | grep ID\nEOF\n" \
           "RUN python3 <<EOF\nprint('a | b')\nimport os\nEOF\n"
    assert spans(text, "DT-D015") == [Position(4, 21, 4, 22)]


# ----------------------------------------------------------------------------- EXPOSE, WORKDIR, cd

def test_expose_ssh() -> None:
    text = "FROM ubuntu:22.04\nEXPOSE 80 443/tcp \\\n  22/tcp\nEXPOSE 2222\nEXPOSE 20-25\n"
    assert spans(text, "DT-D016") == [Position(3, 3, 3, 9), Position(5, 8, 5, 13)]


def test_relative_workdir() -> None:
    text = "FROM node:20\nWORKDIR /srv\nWORKDIR app\nWORKDIR $HOME/app\nWORKDIR \"/quoted dir\"\n"
    assert spans(text, "DT-D017") == [Position(3, 9, 3, 12)]


def test_cd_in_run_but_not_in_subshell() -> None:
    text = "FROM node:20\nRUN cd /src && npm ci\nRUN (cd /src && npm test) && echo ok\n"
    assert spans(text, "DT-D018") == [Position(2, 5, 2, 7)]


# --------------------------------------------------------------------------------------------- apt

APT_FILE = r"""FROM debian:12 AS build
RUN apt-get update && apt-get install gcc
FROM debian:12
RUN apt-get update \
 # build tools first
 && apt-get install -y \
      curl=7.88.1-10+deb12u5 \
      ca-certificates \
      git \
 && apt-get -qq install --no-install-recommends jq=1.6-2.1 \
 && rm -rf /var/lib/apt/lists/*
RUN apt-get update && yes | apt-get install --no-install-recommends make=4.3-4.1
"""


def test_apt_without_yes_everywhere() -> None:
    assert spans(APT_FILE, "DT-D019") == [Position(2, 23, 2, 38)]


def test_apt_recommends_only_final_image() -> None:
    assert spans(APT_FILE, "DT-D020") == [Position(6, 5, 6, 20)]
    no_recommends = "FROM debian:12\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/00\n"
    assert where(APT_FILE.replace("FROM debian:12\n", no_recommends), "DT-D020") == []


def test_apt_unpinned_spans_the_unpinned_packages_across_lines() -> None:
    found = findings(APT_FILE, "DT-D021")
    assert [f.position for f in found] == [Position(2, 39, 2, 42), Position(8, 7, 9, 10)]
    assert "ca-certificates, git" in found[1].message


def test_apt_lists_left_only_in_final_image() -> None:
    assert spans(APT_FILE, "DT-D022") == [Position(12, 5, 12, 19)]


def test_apt_lists_cache_mount_is_fine() -> None:
    text = "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\\n" \
           "    --mount=type=cache,target=/var/cache/apt \\\n" \
           "    apt-get update && apt-get install -y --no-install-recommends x=1\n"
    assert where(text, "DT-D022") == [] and where(text, "DT-D019") == []


# --------------------------------------------------------------------------------------------- apk

def test_apk_pinning_and_cache() -> None:
    text = ("FROM alpine:3.19 AS tools\nRUN apk add git\nFROM alpine:3.19\n"
            "RUN apk add --no-cache --virtual .build-deps gcc=13.2.1_git20231014-r0 musl-dev\n"
            "RUN apk update && apk add curl~8.5 && rm -rf /var/cache/apk/*\n"
            "RUN --mount=type=cache,target=/var/cache/apk apk add bash=5.2.21-r0\n"
            "RUN apk add tini=0.19.0-r2\n")
    assert spans(text, "DT-D023") == [Position(2, 13, 2, 16), Position(4, 72, 4, 80)]
    assert spans(text, "DT-D024") == [Position(7, 5, 7, 12)]


# --------------------------------------------------------------------------------------- pip / npm

PIP_FILE = r"""FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1
RUN pip install --upgrade pip setuptools \
 && python3 -m pip install --no-cache-dir "uvicorn[standard]" fastapi==0.110.0 'httpx>=0.27' \
 && pip3 install --no-cache-dir -r requirements.txt ./local-pkg git+https://github.com/x/y.git
RUN pip install -c constraints.txt --no-cache-dir django celery
RUN --mount=type=cache,target=/root/.cache/pip pip install gunicorn==22.0.0
"""


def test_pip_unpinned() -> None:
    found = findings(PIP_FILE, "DT-D025")
    assert [f.position for f in found] == [Position(4, 43, 4, 62)]
    assert "uvicorn[standard]" in found[0].message


def test_pip_cache() -> None:
    assert spans(PIP_FILE, "DT-D026") == [Position(3, 5, 3, 16)]
    with_env = PIP_FILE.replace("ENV PYTHONDONTWRITEBYTECODE=1", "ENV PIP_NO_CACHE_DIR=1")
    assert where(with_env, "DT-D026") == []


def test_npm_unpinned() -> None:
    text = ("FROM node:20-alpine\nRUN npm ci && npm install -g typescript@5.4.5 @types/node@20.11.0 pm2 \\\n"
            "    @nestjs/cli@latest ./local-dir\n")
    assert spans(text, "DT-D027") == [Position(2, 67, 3, 23)]


# --------------------------------------------------------------------------------------- yum / dnf

def test_yum_and_dnf() -> None:
    text = ("FROM centos:7\nRUN yum install -y httpd-2.4.6 mod_ssl && yum clean all\n"
            "RUN yum -y install epel-release\n"
            "FROM fedora:40\nRUN dnf install -y nginx && rm -rf /var/cache/dnf\n"
            "RUN microdnf install -y tar-1.34 && microdnf clean all\n"
            "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y gzip-1.13\n")
    assert spans(text, "DT-D028") == [Position(2, 32, 2, 39), Position(3, 20, 3, 32)]
    assert where(text, "DT-D029") == []  # the yum stage is not the final image
    assert spans(text, "DT-D030") == [Position(5, 20, 5, 25)]
    assert where(text, "DT-D031") == []
    assert spans(text.replace(" && rm -rf /var/cache/dnf", ""), "DT-D031") == [Position(5, 5, 5, 16)]


def test_yum_clean_in_final_image() -> None:
    assert where("FROM rockylinux:9\nRUN yum install -y httpd-2.4.57\n", "DT-D029") == [(2, 5)]


# ------------------------------------------------------------------ CMD / MAINTAINER / HEALTHCHECK

def test_shell_form_cmd_only_the_effective_one() -> None:
    text = ("FROM node:20\nMAINTAINER ops@example.com\nCMD node a.js\nCMD node server.js\n"
            "ENTRYPOINT ['tini', '--']\n")
    found = findings(text, "DT-D032")
    assert [f.position for f in found] == [Position(4, 5, 4, 19), Position(5, 12, 5, 26)]
    assert "not valid JSON" in found[1].message
    assert spans(text, "DT-D033") == [Position(2, 1, 2, 11)]
    assert spans(text, "DT-D034") == [Position(4, 1, 4, 4)]
    assert where("FROM node:20\nCMD [\"node\", \"a.js\"]\n", "DT-D032") == []


def test_multiple_entrypoint_per_stage() -> None:
    text = "FROM a:1 AS x\nENTRYPOINT [\"a\"]\nFROM b:1\nENTRYPOINT [\"b\"]\nENTRYPOINT [\"c\"]\n"
    assert where(text, "DT-D035") == [(5, 1)]


def test_healthcheck() -> None:
    text = "FROM nginx:1.25 AS base\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\nFROM base\n"
    assert where(text, "DT-D036") == []
    assert spans("FROM nginx:1.25\nCOPY site /usr/share/nginx/html\n", "DT-D036") == [Position(1, 1, 1, 16)]
    assert where("FROM worker:1\nHEALTHCHECK NONE\n", "DT-D036") == []


# ----------------------------------------------------------------------------------- build context

COPY_ALL = ("FROM node:20 AS build\nWORKDIR /app\nCOPY package*.json ./\nCOPY . .\n"
            "FROM nginx:1.25\nCOPY --from=build . /usr/share/nginx/html\n")


def test_copy_whole_context_without_dockerignore() -> None:
    assert spans(COPY_ALL, "DT-D037", path="services/web/Dockerfile") == [Position(4, 6, 4, 7)]


@pytest.mark.parametrize("other", ["services/web/.dockerignore", "services/web/Dockerfile.dockerignore"])
def test_copy_whole_context_with_dockerignore(other: str) -> None:
    assert where(COPY_ALL, "DT-D037", path="services/web/Dockerfile", paths=[other]) == []


def test_dockerignore_elsewhere_does_not_count() -> None:
    assert where(COPY_ALL, "DT-D037", path="services/web/Dockerfile", paths=[".dockerignore"]) == [(4, 6)]


# ----------------------------------------------------------------------------------- modern syntax

def test_heredoc_body_lines_are_exact() -> None:
    text = ("FROM alpine:3.19\nRUN <<EOF\nset -e\n"
            "apk add --no-cache \\\n    --allow-untrusted nginx=1.24.0-r15\nEOF\n")
    assert spans(text, "DT-D013") == [Position(5, 5, 5, 22)]


def test_heredoc_with_tab_stripping_keeps_columns() -> None:
    text = "FROM alpine:3.19\nRUN <<-EOF\n\tapk add --allow-untrusted x=1\nEOF\n"
    assert where(text, "DT-D013") == [(3, 10)]


def test_escape_directive_backtick() -> None:
    text = ("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
            "RUN curl.exe -k `\n    -o C:\\tools\\x.zip https://x.example/x.zip\n")
    assert spans(text, "DT-D010") == [Position(3, 14, 3, 16)]


def test_comment_lines_inside_continuation() -> None:
    text = "FROM debian:12\nRUN apt-get update \\\n# a comment\n\n  && sudo true\n"
    assert where(text, "DT-D009") == [(5, 6)]


# ------------------------------------------------------------------------------------ suppressions

def test_our_pragma_and_hadolint_pragma_above_the_line() -> None:
    text = ("FROM debian:12\n# devops-tui: ignore[DT-D021]\n"
            "RUN apt-get install -y --no-install-recommends curl\n"
            "# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y wget\nRUN apt-get install -y git\n")
    assert where(text, "DT-D021") == [(6, 24)]
    assert where(text, "DT-D020") == [(6, 5)]


def test_hadolint_pragma_inside_a_continued_run() -> None:
    text = ("FROM debian:12\nRUN apt-get update \\\n    # hadolint ignore=DL3008\n"
            "    && apt-get install -y --no-install-recommends curl \\\n    && rm -rf /var/lib/apt/lists/*\n")
    assert where(text, "DT-D021") == []


def test_checkov_pragma_for_healthcheck_and_user() -> None:
    text = "# checkov:skip=CKV_DOCKER_2\nFROM nginx:1.25\n"
    assert where(text, "DT-D036") == [] and where(text, "DT-D004") == [(2, 1)]


def test_trivy_alias_is_listed_for_mapping() -> None:
    rule = registered_rules()["DT-D003"]
    assert "trivy:DS-0002" in rule.aliases and "DS-0002" in rule.alias_ids


def test_broken_dockerfile_never_crashes_rules() -> None:
    text = "FROM\nRUN <<EOF\napk add x\nRUN [\"unclosed\nUSER\nWORKDIR\nEXPOSE\nADD\nENV\nARG =\n"
    assert [f.rule_id for f in scan(text) if f.rule_id == "DT-X001"] == []
