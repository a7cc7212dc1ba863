"""Docker Compose quick fixes: no-new-privileges, loopback-bound database ports, secrets to `${VAR}`.

Contract: each fixer finds the service the finding names (`fix_data` "service") and edits the node at
the finding's position with a minimal text edit (`core.fixes.yamledit`). Moving a plaintext secret
rewrites the value as `${VAR:?…}` (Compose then refuses to start without it instead of running with an
empty password), declares `VAR=` in `.env.example` next to the compose file, and makes sure git ignores
that folder's `.env` — the side files are created when missing. The secret itself is never written
anywhere: it was committed, so it must be rotated, and the new value belongs in the untracked .env.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.fixes.model import CannotFix, SideFile, TextFix
from core.fixes.registry import fixer
from core.fixes.yamledit import ensure_path, node_at, render_scalar, replace_node
from core.models import Finding
from core.parsing import ParsedFile
from core.patching.proposal import Safety
from core.rules.compose import Service, key_values, services
from core.secrets.keywords import looks_like_secret_assignment
from core.yamlnodes import MappingNode, ScalarNode, get, scalar, seq

_NO_NEW_PRIVS = re.compile(r"^\s*no-new-privileges\s*(?:[:=]\s*(\S+))?\s*$", re.IGNORECASE)
_ENV_NAME = re.compile(r"[^A-Za-z0-9_]")
_EXAMPLE_HEADER = "# Copy to .env (git-ignored) and fill in; docker compose reads it.\n"


def _service(finding: Finding, parsed: ParsedFile) -> Service:
    name = dict(finding.extra).get("service")
    for svc in services(parsed):
        if svc.name == name:
            return svc
    raise CannotFix(f"service {name!r} is not in the file any more")


@fixer("DT-C011", "safe")
def no_new_privileges(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    svc = _service(finding, parsed)
    for item in seq(get(svc.node, "security_opt")):
        if _NO_NEW_PRIVS.match(scalar(item) or ""):  # `no-new-privileges:false` is turned around
            text, span = replace_node(parsed.text, item, render_scalar("no-new-privileges:true",
                                                                      getattr(item, "style", "")))
            break
    else:
        text, span = ensure_path(parsed.text, parsed.docs, svc.node, ("security_opt",),
                                 ("no-new-privileges:true",))
    return TextFix(text, (span,), f"service '{svc.name}': security_opt no-new-privileges:true",
                   "Setuid binaries inside the container can no longer raise a process's privileges. "
                   "Only programs that rely on setuid (sudo, su) are affected.")


def _loopback_port(text: str) -> str | None:
    """The short port syntax bound to 127.0.0.1, or None when it cannot be rewritten safely."""
    body, slash, proto = text.partition("/")
    if body.startswith("["):
        _, _, rest = body[1:].partition("]")
        parts = rest.lstrip(":").split(":")
    else:
        parts = body.split(":")
        if len(parts) >= 3:
            parts = parts[-2:]
    if len(parts) == 1:
        new = f"127.0.0.1::{parts[0]}"
    elif len(parts) == 2:
        new = f"127.0.0.1:{parts[0]}:{parts[1]}"
    else:
        return None
    return new + (slash + proto if slash else "")


@fixer("DT-C012", "review")
def bind_to_loopback(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    svc = _service(finding, parsed)
    found = node_at(parsed.docs, finding.position.line, finding.position.column)
    if found is None:
        raise CannotFix("the port entry is not where the finding points")
    key, node = found
    if key is not None and key.value == "host_ip" and isinstance(node, ScalarNode):
        text, span = replace_node(parsed.text, node, render_scalar("127.0.0.1", node.style))
    elif key is not None and key.value in ("published", "target"):
        mapping = next((i for i in seq(get(svc.node, "ports")) if isinstance(i, MappingNode)
                        and any(v is node for _, v in i.value)), None)
        if mapping is None:
            raise CannotFix("the long-syntax port entry was not found")
        text, span = ensure_path(parsed.text, parsed.docs, mapping, ("host_ip",), "127.0.0.1")
    elif isinstance(node, ScalarNode):
        new = _loopback_port(node.value.strip())
        if new is None:
            raise CannotFix(f"cannot rewrite the port {node.value!r}")
        text, span = replace_node(parsed.text, node, render_scalar(new, node.style or '"'))
    else:
        raise CannotFix("the port entry is not a scalar or a long-syntax mapping")
    return TextFix(text, (span,), f"service '{svc.name}': publish the port on 127.0.0.1 only",
                   "The port stays reachable from this host and from other services on the Compose "
                   "network, but no longer from the network. Review: remote clients of this port lose "
                   "access.")


def _variable(svc: Service, key: str, value: str, parsed: ParsedFile) -> str:
    """`KEY`, or `SERVICE_KEY` when another service sets the same key to another literal value."""
    name = _ENV_NAME.sub("_", key).upper().strip("_") or "SECRET"
    for other in services(parsed):
        if other.name == svc.name:
            continue
        for other_key, other_value, _, _ in key_values(get(other.node, "environment")):
            if other_key == key and other_value != value and looks_like_secret_assignment(key, other_value):
                return f"{_ENV_NAME.sub('_', svc.name).upper()}_{name}"
    return name


@fixer("DT-C013", "review")
def secret_to_variable(finding: Finding, parsed: ParsedFile, root: Path) -> TextFix | None:
    svc = _service(finding, parsed)
    data = dict(finding.extra)
    wanted = data.get("variable", "")
    for key, value, node, offset in key_values(get(svc.node, "environment")):
        if key != wanted or not looks_like_secret_assignment(key, value):
            continue
        if node.end_mark.line != node.start_mark.line or node.style in ("|", ">"):
            raise CannotFix("the secret spans several lines")
        var = _variable(svc, key, value, parsed)
        reference = "${" + var + ":?set " + var + " in .env}"
        new_value = f"{key}={reference}" if offset else reference
        style = node.style if node.style in ("'", '"') else ""
        text, span = replace_node(parsed.text, node, render_scalar(new_value, style))
        folder = parsed.file.directory
        prefix = f"{folder}/" if folder else ""
        sides = (
            SideFile(f"{prefix}.env.example", (f"{var}=",), header=_EXAMPLE_HEADER, match="key"),
            SideFile(".gitignore", (f"{prefix}.env", ".env"), match="ignored"),
        )
        return TextFix(text, (span,), f"service '{svc.name}': read {key} from ${{{var}}}",
                       f"The value of {key} no longer lives in the repository: put it in {prefix}.env "
                       "(git-ignored; .env.example lists the names). Review: the old value was committed, "
                       "so rotate it; the service will not start until the variable is set.",
                       side_files=sides, safety=Safety.REVIEW)
    raise CannotFix(f"{wanted} is no longer a plaintext secret of service '{svc.name}'")

