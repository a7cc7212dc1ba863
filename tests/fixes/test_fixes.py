"""Every quick fix on a realistic file in a real git repository: fixed, applied, rescanned.

Each case applies the fix of one finding with the patch engine, rescans the repository from disk, and
checks that the rule no longer fires there, that no other rule started firing, that the comments of the
file survived and that it still parses; then it compares the edited lines with what a person would
have written.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.discovery import build_index
from core.fixes import fix_for, fixable_rule_ids, registered_fixers
from core.models import Finding
from core.patching import Safety, apply_proposal
from core.scan import scan_index

DOCKERFILE = """\
# syntax=docker/dockerfile:1
# Build the API image.
FROM python:3.12-slim AS build
MAINTAINER Jane Doe <jane@example.com>
WORKDIR /src
# system packages for the wheels
RUN apt-get update \\
    && apt-get install -y --no-install-recommends build-essential=12.9 \\
    && rm -rf /var/lib/apt/lists/*
ADD requirements.txt /src/
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.12-slim
# runtime libraries
RUN apt-get update && apt-get install libpq5=15.6-0+deb12u1
RUN pip install --no-cache-dir gunicorn==22.0.0
COPY --from=build /wheels /wheels
COPY app/ /app/
EXPOSE 8000
# start the server
CMD gunicorn --bind 0.0.0.0:8000 app:app
"""

ALPINE = """\
# Worker image
FROM alpine:3.19
# tools the worker shells out to
RUN apk add curl=8.5.0-r0
COPY worker /usr/local/bin/worker
USER root
ENTRYPOINT ["/usr/local/bin/worker"]
"""

PIP = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
# install the dependencies
RUN pip install -r requirements.txt
COPY app/ .
USER 10001
HEALTHCHECK CMD python -c "print(1)"
CMD ["python", "-m", "app"]
"""

CONTEXT = """\
FROM node:20.11-bookworm-slim
WORKDIR /usr/src/app
# everything, including local files
COPY . .
RUN npm ci --omit=dev
USER node
HEALTHCHECK CMD node healthcheck.js
CMD ["node", "server.js"]
"""

WORKFLOW = """\
name: triage
on:
  issues:
    types: [opened]

# one job per concern
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11  # v4.1.1
        with:
          fetch-depth: 1
      - name: Greet
        # say hello
        run: |
          echo "New issue: ${{ github.event.issue.title }}"
          echo done
"""

INSECURE = """\
name: legacy
on: push
permissions:
  contents: read
env:
  # old set-env usage
  ACTIONS_ALLOW_UNSECURE_COMMANDS: true
  LOG_LEVEL: info
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "$LOG_LEVEL"
"""

DISPATCH = """\
name: deploy
on:
  workflow_dispatch:
    inputs:
      target:
        description: where to deploy
        type: string
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      # deploy to the chosen target
      - run: ./deploy.sh ${{ inputs.target }}
"""

COMPOSE = """\
# Local development stack
services:
  db:
    image: postgres:16.3
    environment:
      POSTGRES_USER: app
      # TODO: move out of the file
      POSTGRES_PASSWORD: "Xk9vQ2mLp7Rw4tZ"
    ports:
      - "5432:5432"
    security_opt:
      - no-new-privileges:true
    cap_drop: [ALL]
  web:
    image: registry.example.com/web:1.4
    ports:
      - "8080:8080"
    cap_drop: [ALL]
"""

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      automountServiceAccountToken: false
      containers:
        # the API server
        - name: api
          image: registry.example.com/api:1.4.2
          resources:
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
"""


def _k8s_without(line: str) -> str:
    return K8S.replace(line + "\n", "")


@dataclass(frozen=True)
class Case:
    rule: str
    path: str
    text: str
    where: tuple[int, int]  # line, column of the finding the test fixes
    expect: tuple[str, ...]  # lines (stripped) the fixed file must contain
    gone: tuple[str, ...] = ()  # lines (stripped) it must no longer contain
    created: tuple[tuple[str, str], ...] = ()  # (path, line) of side files
    safety: Safety = Safety.SAFE


CASES = [
    Case("DT-D007", "Dockerfile", DOCKERFILE, (10, 1), ("COPY requirements.txt /src/",),
         ("ADD requirements.txt /src/",)),
    Case("DT-D033", "Dockerfile", DOCKERFILE, (4, 1),
         ('LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"',)),
    Case("DT-D019", "Dockerfile", DOCKERFILE, (15, 23),
         ("RUN apt-get update && apt-get install -y libpq5=15.6-0+deb12u1",)),
    Case("DT-D020", "Dockerfile", DOCKERFILE, (15, 23),
         ("RUN apt-get update && apt-get install --no-install-recommends libpq5=15.6-0+deb12u1",),
         safety=Safety.REVIEW),
    Case("DT-D022", "Dockerfile", DOCKERFILE, (15, 5),
         ("RUN apt-get update && apt-get install libpq5=15.6-0+deb12u1 && rm -rf /var/lib/apt/lists/*",)),
    Case("DT-D032", "Dockerfile", DOCKERFILE, (21, 5),
         ('CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]',)),
    Case("DT-D004", "Dockerfile", DOCKERFILE, (13, 1),
         ("RUN useradd --create-home --uid 10001 app", "USER app"), safety=Safety.REVIEW),
    Case("DT-D036", "Dockerfile", DOCKERFILE, (13, 1),
         ("CMD python -c \"import urllib.request; "
          "urllib.request.urlopen('http://127.0.0.1:8000/', timeout=4)\"",),
         safety=Safety.REVIEW),
    Case("DT-D024", "Dockerfile", ALPINE, (4, 5), ("RUN apk add --no-cache curl=8.5.0-r0",)),
    Case("DT-D003", "Dockerfile", ALPINE, (6, 6), ("RUN adduser -D -u 10001 app", "USER app"),
         safety=Safety.REVIEW),
    Case("DT-D026", "Dockerfile", PIP, (5, 5), ("RUN pip install --no-cache-dir -r requirements.txt",)),
    Case("DT-D037", "Dockerfile", CONTEXT, (4, 6), (), created=(((".dockerignore", ".git"),
                                                                (".dockerignore", ".env")))
         , safety=Safety.REVIEW),
    Case("DT-G001", ".github/workflows/triage.yml", WORKFLOW, (17, 28),
         ('echo "New issue: ${ISSUE_TITLE}"', "env:", "ISSUE_TITLE: ${{ github.event.issue.title }}")),
    Case("DT-G006", ".github/workflows/triage.yml", WORKFLOW, (8, 3), ("permissions:", "contents: read"),
         safety=Safety.REVIEW),
    Case("DT-G009", ".github/workflows/triage.yml", WORKFLOW, (11, 15), ("persist-credentials: false",)),
    Case("DT-G011", ".github/workflows/legacy.yml", INSECURE, (7, 3), (),
         ("ACTIONS_ALLOW_UNSECURE_COMMANDS: true",)),
    Case("DT-G002", ".github/workflows/deploy.yml", DISPATCH, (15, 26),
         ('- run: ./deploy.sh "${TARGET}"', "TARGET: ${{ inputs.target }}"), safety=Safety.REVIEW),
    Case("DT-C011", "docker-compose.yml", COMPOSE, (14, 3), ("- no-new-privileges:true",)),
    Case("DT-C012", "docker-compose.yml", COMPOSE, (10, 9), ('- "127.0.0.1:5432:5432"',),
         safety=Safety.REVIEW),
    Case("DT-C013", "docker-compose.yml", COMPOSE, (8, 26),
         ('POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"',),
         created=((".env.example", "POSTGRES_PASSWORD="), (".gitignore", ".env")), safety=Safety.REVIEW),
    Case("DT-K005", "k8s/api.yaml", _k8s_without("            allowPrivilegeEscalation: false"), (16, 11),
         ("allowPrivilegeEscalation: false",)),
    Case("DT-K006", "k8s/api.yaml", _k8s_without("            runAsNonRoot: true").replace(
        "            runAsUser: 10001\n", ""), (16, 11), ("runAsNonRoot: true",), safety=Safety.REVIEW),
    Case("DT-K008", "k8s/api.yaml", K8S.replace("drop: [ALL]", "add: [NET_BIND_SERVICE]"), (16, 11),
         ("add: [NET_BIND_SERVICE]", "drop:", "- ALL"), safety=Safety.REVIEW),
    Case("DT-K013", "k8s/api.yaml", _k8s_without("            readOnlyRootFilesystem: true"), (16, 11),
         ("readOnlyRootFilesystem: true",), safety=Safety.REVIEW),
]


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_every_fixer_has_a_case() -> None:
    assert fixable_rule_ids() == {c.rule for c in CASES}
    assert len(fixable_rule_ids()) >= 15
    safe = [r for r, f in registered_fixers().items() if f.safety is Safety.SAFE]
    assert len(safe) >= 12


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{c.path.rsplit('/', 1)[-1]}" for c in CASES])
def test_fix_applies_and_rescans_clean(case: Case, make_repo: Callable[..., Path]) -> None:
    root = make_repo({case.path: case.text, "app/main.py": "print('hi')\n"})
    index = build_index(root)
    before = scan_index(index)
    targets = [f for f in before if f.rule_id == case.rule and f.path == case.path]
    finding: Finding = next(f for f in targets if (f.position.line, f.position.column) == case.where)
    proposal = fix_for(finding, index)
    assert proposal is not None
    assert proposal.rule_ids == (case.rule,) and proposal.finding_fingerprints == (finding.fingerprint,)
    assert proposal.safety is case.safety
    apply_proposal(root, proposal)
    text = (root / case.path).read_text()
    after = scan_index(build_index(root))
    remaining = [f for f in after if f.rule_id == case.rule and f.path == case.path]
    assert len(remaining) == len(targets) - 1 or case.rule == "DT-G006"
    assert not [f for f in remaining if f.fingerprint == finding.fingerprint]
    others_before = {f.rule_id for f in before if f.rule_id != case.rule}
    others_after = {f.rule_id for f in after if f.rule_id != case.rule}
    assert others_after <= others_before, f"new rules fire: {others_after - others_before}"
    assert not [f for f in after if f.rule_id.startswith("DT-P")]
    assert set(_comments(case.text)) <= set(_comments(text))
    lines = {line.strip() for line in text.splitlines()}
    for expected in case.expect:
        assert expected in lines, f"{expected!r} missing from:\n{text}"
    for old in case.gone:
        assert old not in lines
    for path, line in case.created:
        assert line in (root / path).read_text().splitlines()
    removed = [x for x in difflib.ndiff(case.text.splitlines(), text.splitlines()) if x.startswith("- ")]
    assert len(removed) <= 2  # a minimal edit: at most the lines it rewrites
