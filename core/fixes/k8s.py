"""Kubernetes quick fixes: harden a container's `securityContext`, one field per rule.

Contract: each fixer finds the container the finding names (workload label + container path from the
rule's `fix_data`), then sets one field with a minimal edit — adding `securityContext:` (or
`capabilities: drop: [ALL]`) at the container's key column when missing, rewriting a wrong value in
place. Fixing all four rules of one container chains the edits into one securityContext block.
`allowPrivilegeEscalation: false` is safe for nearly every program; the others can stop an image
that needs root, writes to its filesystem or relies on a default capability, so they need review.
"""

from __future__ import annotations

from pathlib import Path

from core.fixes.model import CannotFix, TextFix
from core.fixes.registry import fixer
from core.fixes.yamledit import Leaf, ensure_path
from core.models import Finding
from core.parsing import ParsedFile
from core.rules.k8s import Container, manifest


def _container(finding: Finding, parsed: ParsedFile) -> Container:
    data = dict(finding.extra)
    workload, path = data.get("workload", ""), data.get("path", "")
    for container in manifest(parsed).containers:
        prefix = f"{container.workload.path}.{container.path}"
        if container.workload.label == workload and (path == prefix or path.startswith(prefix + ".")):
            return container
    raise CannotFix("the container named by the finding is not in the file any more")


def _harden(finding: Finding, parsed: ParsedFile, keys: tuple[str, ...], leaf: Leaf, what: str,
            why: str) -> TextFix:
    container = _container(finding, parsed)
    text, span = ensure_path(parsed.text, parsed.docs, container.node, ("securityContext", *keys), leaf)
    return TextFix(text, (span,), f"{container.label}: {what}", why)


@fixer("DT-K005", "safe")
def no_privilege_escalation(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _harden(finding, parsed, ("allowPrivilegeEscalation",), "false",
                   "set allowPrivilegeEscalation: false",
                   "Stops setuid binaries and file capabilities from raising a process's privileges; "
                   "required by the restricted Pod Security Standard.")


@fixer("DT-K006", "review")
def run_as_non_root(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    if dict(finding.extra).get("path", "").endswith("runAsUser"):
        raise CannotFix("runAsUser: 0 needs a real user ID chosen by a person")
    return _harden(finding, parsed, ("runAsNonRoot",), "true", "set runAsNonRoot: true",
                   "The kubelet refuses to start the container as root. Review: an image whose USER is "
                   "root (or a name, not a number) will then fail to start until it gets a non-root USER "
                   "or a runAsUser.")


@fixer("DT-K008", "review")
def drop_all_capabilities(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _harden(finding, parsed, ("capabilities", "drop"), ("ALL",), "drop ALL capabilities",
                   "Removes the runtime's default capabilities (NET_RAW, CHOWN, SETUID …). Review: add "
                   "back under capabilities.add what the program needs (e.g. NET_BIND_SERVICE for ports "
                   "below 1024).")


@fixer("DT-K013", "review")
def read_only_root(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    return _harden(finding, parsed, ("readOnlyRootFilesystem",), "true", "set readOnlyRootFilesystem: true",
                   "An attacker can no longer drop tools or change the program's files. Review: mount an "
                   "emptyDir for every directory the program writes to (/tmp, caches).")
