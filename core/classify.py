"""Which kind of infrastructure file a path is: by name first, then (for YAML) by content."""

from __future__ import annotations

import re
from collections.abc import Collection
from fnmatch import translate as fnmatch_translate

from core.models import FileKind
from core.yamlnodes import MappingNode, Node, SequenceNode, get, keys, scalar, seq

_SHELL_SHEBANG = re.compile(rb"^#!\s*(?:/usr)?(?:/local)?/bin/(?:env\s+(?:-S\s+)?)?(?:ba|da|z|k|a)?sh\b")
_COMPOSE_NAMES = ("docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml")
_COMPOSE_NAME = re.compile("|".join(fnmatch_translate(p) for p in _COMPOSE_NAMES))
#: Cheap pre-check: YAML that mentions none of these top-level keys cannot be an infra kind.
_INFRA_YAML_HINT = re.compile(r"^(?:services|jobs|runs|apiVersion|kind|stages|include|image|on|\"on\"):",
                              re.MULTILINE)


#: `Dockerfile.<x>` is a Dockerfile unless <x> is plainly another language's extension.
_NOT_DOCKERFILE_SUFFIXES = frozenset(
    {"py", "md", "txt", "json", "go", "rs", "js", "ts", "rb", "java", "yml", "yaml", "toml", "lock",
     "sh", "html", "css", "c", "h", "cpp", "php", "pyc", "swp", "orig", "rej", "bak"}
)


def kind_from_name(path: str, head: bytes = b"") -> FileKind | None:
    """The kind a path has by name alone; None means "YAML: look at its content"."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if (
        lower in ("dockerfile", "containerfile")
        or (
            lower.startswith(("dockerfile.", "containerfile."))
            and lower.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE_SUFFIXES
        )
        or lower.endswith((".dockerfile", ".containerfile"))
    ):
        return FileKind.DOCKERFILE
    if lower.endswith((".yml", ".yaml")):
        return None
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return FileKind.ENV
    if lower.endswith((".sh", ".bash", ".zsh", ".ksh")):
        return FileKind.SHELL
    if head.startswith(b"#!") and _SHELL_SHEBANG.match(head):
        return FileKind.SHELL
    return FileKind.OTHER


def might_be_infra_yaml(path: str, text: str) -> bool:
    """Whether a YAML file is worth composing to classify it (known names always are)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml", "action.yml", "action.yaml"):
        return True
    if _COMPOSE_NAME.match(name):
        return True
    if path.startswith(".github/workflows/"):
        return True
    return _INFRA_YAML_HINT.search(text) is not None


def _kind_from_facts(path: str, top: Collection[str], k8s: bool, services_mapping: bool) -> FileKind:
    name = path.rsplit("/", 1)[-1].lower()
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return FileKind.GITLAB_CI
    if path.startswith(".github/workflows/") and ("jobs" in top or "on" in top):
        return FileKind.GHA_WORKFLOW
    if name in ("action.yml", "action.yaml") and "runs" in top:
        return FileKind.GHA_ACTION
    if k8s:
        return FileKind.K8S
    if services_mapping or _COMPOSE_NAME.match(name):
        return FileKind.COMPOSE
    return FileKind.YAML


def kind_from_yaml(path: str, docs: list[Node]) -> FileKind:
    """Classify a YAML file from its composed documents and its path."""
    first = docs[0] if docs else None
    top = keys(first) if isinstance(first, MappingNode) else []
    k8s = any(
        isinstance(d, MappingNode) and get(d, "apiVersion") is not None and get(d, "kind") is not None
        for d in docs
    )
    services = "services" in top and isinstance(get(first, "services"), MappingNode)
    return _kind_from_facts(path, top, k8s, services)


_TOP_KEY = re.compile(r"^[\"']?([A-Za-z_][\w.-]*)[\"']?\s*:", re.MULTILINE)


def kind_from_yaml_text(path: str, text: str) -> FileKind:
    """A provisional kind from the text alone (top-level keys), for painting the tree before parsing.

    The parse that follows (`kind_from_yaml`) is authoritative; the two agree on every ordinary file.
    """
    top = set(_TOP_KEY.findall(text))
    return _kind_from_facts(path, top, "apiVersion" in top and "kind" in top, "services" in top)


def gitlab_local_includes(docs: list[Node]) -> list[str]:
    """Repo-relative paths a `.gitlab-ci.yml` includes with `include: local:` (or a bare path)."""
    if not docs:
        return []
    include = get(docs[0], "include")
    if include is None:
        return []
    entries = seq(include) if isinstance(include, SequenceNode) else [include]
    paths: list[str] = []
    for entry in entries:
        text = scalar(entry)
        if text is None:
            text = scalar(get(entry, "local"))
        if text and "://" not in text and "*" not in text:
            paths.append(text.lstrip("/"))
    return paths
