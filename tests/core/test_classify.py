"""Classification: by name first, then YAML by content, on files discovered from a real repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.classify import kind_from_name
from core.discovery import build_index
from core.models import FileKind

DOCKER = FileKind.DOCKERFILE


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("Dockerfile", DOCKER),
        ("svc/Dockerfile.prod", DOCKER),
        ("api.Dockerfile", DOCKER),
        ("Containerfile", DOCKER),
        ("build/dockerfile", DOCKER),
        ("dockerfile.py", FileKind.OTHER),
        ("Dockerfile.md", FileKind.OTHER),
        ("docs/dockerfiles.txt", FileKind.OTHER),
        (".env", FileKind.ENV),
        (".env.production", FileKind.ENV),
        ("config/prod.env", FileKind.ENV),
        ("environment.py", FileKind.OTHER),
        ("deploy.sh", FileKind.SHELL),
        ("lib.bash", FileKind.SHELL),
        ("settings.yml", None),
        ("x.yaml", None),
    ],
)
def test_kind_from_name(path: str, kind: FileKind | None) -> None:
    assert kind_from_name(path) is kind


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"#!/bin/sh\n", FileKind.SHELL),
        (b"#!/usr/bin/env bash\n", FileKind.SHELL),
        (b"#!/usr/bin/env -S bash -eu\n", FileKind.SHELL),
        (b"#!/bin/zsh\n", FileKind.SHELL),
        (b"#!/usr/bin/env python3\n", FileKind.OTHER),
        (b"echo no shebang\n", FileKind.OTHER),
    ],
)
def test_shell_by_shebang(head: bytes, kind: FileKind) -> None:
    assert kind_from_name("scripts/run", head) is kind


WORKFLOW = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
K8S_MULTI = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n"
)


def test_yaml_kinds_by_content_and_place(make_repo: Callable[..., Path]) -> None:
    root = make_repo(
        {
            ".github/workflows/ci.yml": WORKFLOW,
            "docs/ci-example.yml": WORKFLOW,  # a workflow outside .github/workflows is just YAML
            ".github/workflows/notes.yml": "title: not a workflow\n",
            ".github/actions/setup/action.yml": "name: s\nruns:\n  using: composite\n  steps: []\n",
            "tools/action.yaml": "name: no runs key\n",
            "docker-compose.override.yml": "version: '3'\n",  # compose by name
            "stack.yaml": "services:\n  web:\n    image: nginx:1.25\n",  # compose by `services:`
            "list.yaml": "services:\n  - a\n  - b\n",  # `services:` that is not a mapping
            "k8s/all.yaml": K8S_MULTI,
            "k8s/second-doc-only.yaml": "a: 1\n---\napiVersion: v1\nkind: Service\n",
            ".gitlab-ci.yml": "include:\n  - local: ci/jobs.yml\n  - local: /ci/more.yml\n"
            "  - remote: https://example.com/x.yml\nstages: [build]\n",
            "ci/jobs.yml": "build:\n  script: [make]\n",
            "ci/more.yml": ".tpl: &t\n  image: alpine:3\nlint:\n  <<: *t\n  script: [lint]\n",
            "ci/not-included.yml": "build:\n  script: [make]\n",
            "config/app.yaml": "server:\n  port: 8080\n",
        }
    )
    kinds = {path: f.kind for path, f in build_index(root).files.items()}
    assert kinds == {
        ".github/workflows/ci.yml": FileKind.GHA_WORKFLOW,
        "docs/ci-example.yml": FileKind.YAML,
        ".github/workflows/notes.yml": FileKind.YAML,
        ".github/actions/setup/action.yml": FileKind.GHA_ACTION,
        "tools/action.yaml": FileKind.YAML,
        "docker-compose.override.yml": FileKind.COMPOSE,
        "stack.yaml": FileKind.COMPOSE,
        "list.yaml": FileKind.YAML,
        "k8s/all.yaml": FileKind.K8S,
        "k8s/second-doc-only.yaml": FileKind.K8S,
        ".gitlab-ci.yml": FileKind.GITLAB_CI,
        "ci/jobs.yml": FileKind.GITLAB_CI,
        "ci/more.yml": FileKind.GITLAB_CI,
        "ci/not-included.yml": FileKind.YAML,
        "config/app.yaml": FileKind.YAML,
    }


def test_multi_document_manifest_keeps_every_document(make_repo: Callable[..., Path]) -> None:
    parsed = build_index(make_repo({"k8s/all.yaml": K8S_MULTI})).parsed["k8s/all.yaml"]
    assert len(parsed.docs) == 2
    assert parsed.docs[1].start_mark.line + 1 == 6  # the second document starts on line 6


def test_non_yaml_kinds_get_their_parse(make_repo: Callable[..., Path]) -> None:
    index = build_index(make_repo({".env": "A=1\nexport B='two'\n", "Dockerfile": "FROM a:1 AS x\n"}))
    assert [(e.key, e.value, e.line) for e in index.parsed[".env"].env] == [("A", "1", 1), ("B", "two", 2)]
    dockerfile = index.parsed["Dockerfile"].dockerfile
    assert dockerfile is not None and dockerfile.stages[0].name == "x"


def test_infra_tree_lists_only_infrastructure(make_repo: Callable[..., Path]) -> None:
    index = build_index(make_repo({"README.md": "# x\n", "a.yaml": "x: 1\n", "Dockerfile": "FROM a:1\n"}))
    assert [f.path for f in index.infra_files()] == ["Dockerfile"]


def test_listing_without_parsing_agrees_with_the_full_discovery(make_repo):
    """The app paints its tree from `parse=False` first; kinds must match the parse-based ones."""
    from core.discovery import build_index

    root = make_repo({
        "Dockerfile": "FROM alpine:3.19\n",
        "compose.yaml": "services:\n  web:\n    image: nginx:1.25\n",
        "stack.yml": "version: '3'\nservices:\n  db:\n    image: postgres:16\n",
        "k8s/app.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n"
                        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n",
        ".github/workflows/ci.yml": "name: ci\non: push\njobs:\n  a:\n    runs-on: x\n",
        ".github/actions/setup/action.yml": "name: s\nruns:\n  using: composite\n  steps: []\n",
        ".gitlab-ci.yml": "stages: [build]\n",
        "config/app.yaml": "log_level: info\n",
        "deploy.sh": "#!/bin/sh\necho hi\n",
        ".env.example": "A=1\n",
    })
    quick, full = build_index(root, parse=False), build_index(root)
    assert quick.parsed == {}
    assert {p: f.kind for p, f in quick.files.items()} == {p: f.kind for p, f in full.files.items()}
