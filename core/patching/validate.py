"""Checks an edited file must pass before it is written: it still parses and keeps its kind.

YAML must still compose, and a workflow, compose file, Kubernetes manifest (any classified kind) must
stay that kind. A Dockerfile must not gain parse problems. A file that was already broken is not held
to a standard it never met: only problems the edit introduces count. UTF-8 files must stay UTF-8.
"""

from __future__ import annotations

from core.classify import kind_from_name, kind_from_yaml
from core.dockerfile import parse_dockerfile
from core.models import FileKind
from core.yamlnodes import compose_documents


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def validate_edit(path: str, before: bytes | None, after: bytes) -> list[str]:
    """Why `after` may not replace `before` at `path`; empty when it may."""
    new_text = _decode(after)
    old_text = _decode(before) if before is not None else None
    if new_text is None:
        if before is None or old_text is not None:
            return [f"{path}: the edited file is not valid UTF-8"]
        return []
    kind = kind_from_name(path, after[:128])
    if kind is None:
        return _validate_yaml(path, old_text, new_text)
    if kind is FileKind.DOCKERFILE:
        old_problems = {p.message for p in parse_dockerfile(old_text).problems} if old_text else set()
        return [
            f"{path}:{p.line}: Dockerfile no longer parses: {p.message}"
            for p in parse_dockerfile(new_text).problems
            if p.message not in old_problems
        ]
    return []


def _validate_yaml(path: str, old_text: str | None, new_text: str) -> list[str]:
    new_docs, new_problem = compose_documents(new_text)
    old_docs, old_problem = compose_documents(old_text) if old_text is not None else ([], None)
    if new_problem is not None:
        if old_text is not None and old_problem is not None:
            return []  # it was broken before the edit too
        return [f"{path}:{new_problem.line}:{new_problem.column}: {new_problem.message}"]
    if old_text is None or old_problem is not None:
        return []
    old_kind, new_kind = kind_from_yaml(path, old_docs), kind_from_yaml(path, new_docs)
    if old_kind is not new_kind:
        return [f"{path}: the edit changes what the file is: it was {old_kind}, it would become {new_kind}"]
    return []
