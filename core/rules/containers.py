"""What the rules about containers share: runtime knobs, host paths, image references, YAML positions.

Contract: Compose services, Kubernetes pods, GitHub Actions job containers and GitLab CI images describe
the same container runtime, so the judgement lives here once: which capabilities are dangerous
(`normalise_capability`, `DANGEROUS_CAPABILITIES`), which host paths expose the host
(`sensitive_host_path`, `is_runtime_socket`), whether an image reference is pinned (`image_tag_problem`,
phrased for CI files by `image_pin_problem`), YAML booleans as these tools read them (`is_true`,
`is_false`), and a mapping's keys indexed once with the positions rules point at (`fields`, `span`).
"""

from __future__ import annotations

import re

from core.models import Position
from core.yamlnodes import Node, ScalarNode, items, node_position, scalar

Fields = dict[str, tuple[ScalarNode, Node]]

TRUE_WORDS = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
FALSE_WORDS = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})

#: Capabilities that give a container a way out to the host or over other containers.
DANGEROUS_CAPABILITIES = frozenset(
    {
        "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "SYS_RAWIO",
        "SYS_BOOT", "SYS_TIME", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE",
    }
)

#: Host directories whose mount exposes the host itself (exact match).
_SENSITIVE_DIRS = frozenset(
    {
        "/", "/etc", "/proc", "/sys", "/root", "/var", "/var/run", "/run", "/var/lib", "/var/lib/docker",
        "/var/lib/containerd", "/var/lib/kubelet", "/etc/kubernetes", "/boot", "/dev", "/home", "/usr",
        "/lib", "/bin", "/sbin",
    }
)
#: Host trees where any sub-path is sensitive.
_SENSITIVE_TREES = (
    "/proc/", "/sys/", "/boot/", "/root/", "/var/lib/docker/", "/var/lib/containerd/", "/var/lib/kubelet/",
    "/etc/kubernetes/", "/etc/ssh/", "/etc/sudoers.d/", "/etc/docker/",
)
_SENSITIVE_FILES = frozenset({"/etc/shadow", "/etc/gshadow", "/etc/sudoers"})
#: Credential stores in a home directory, wherever that home is.
_CREDENTIAL_DIRS = frozenset(
    {".ssh", ".aws", ".kube", ".docker", ".gnupg", ".azure", ".netrc", ".git-credentials", ".pgpass"}
)
_RUNTIME_SOCKET = re.compile(r"(?:^|/)(?:docker|containerd|crio|podman)\.sock$")
_HOME_PREFIX = re.compile(r"^(?:\$\{HOME\}|\$HOME|~)(?=/|$)")


def is_true(node: Node | None) -> bool:
    """A YAML boolean true as Compose or Kubernetes would read it."""
    return scalar(node) in TRUE_WORDS


def is_false(node: Node | None) -> bool:
    """A YAML boolean false as Compose or Kubernetes would read it (absent is neither)."""
    return scalar(node) in FALSE_WORDS


def normalise_capability(name: str) -> str:
    """`cap_sys_admin` and `SYS_ADMIN` are the same capability."""
    name = name.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def normalise_host_path(path: str) -> str:
    """Collapse `//`, trailing `/` and `$HOME`/`${HOME}` (as `~`) so paths compare as written."""
    path = _HOME_PREFIX.sub("~", path.strip())
    path = re.sub(r"/{2,}", "/", path)
    if path.startswith("/"):
        return path.rstrip("/") or "/"
    return path.rstrip("/")


def is_runtime_socket(path: str) -> bool:
    """The Docker (or containerd/CRI-O/Podman) control socket: whoever holds it is root on the host."""
    return bool(_RUNTIME_SOCKET.search(normalise_host_path(path)))


def sensitive_host_path(path: str) -> str | None:
    """Why mounting host `path` exposes the host, or None; runtime sockets are reported on their own."""
    path = normalise_host_path(path)
    if is_runtime_socket(path):
        return None
    parts = path.split("/")
    credential = next((p for p in parts if p in _CREDENTIAL_DIRS), None)
    if credential or ".config/gcloud" in path:
        return f"a credential store ({credential or '.config/gcloud'})"
    if path in _SENSITIVE_DIRS:
        return "the host's root filesystem" if path == "/" else f"the host directory {path}"
    if path in _SENSITIVE_FILES or path.startswith(_SENSITIVE_TREES):
        return f"the host path {path}"
    return None


def image_tag_problem(ref: str) -> str | None:
    """'latest' or 'untagged' for a mutable image reference; None when pinned (tag or digest) or templated."""
    ref = ref.strip().strip("'\"")
    if not ref or "$" in ref or "{{" in ref or "@" in ref:
        return None
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return "untagged"
    return "latest" if last.rsplit(":", 1)[1] == "latest" else None


_PIN_PHRASES = {"untagged": "has no tag, so it means `latest`", "latest": "uses the moving `latest` tag"}


def image_pin_problem(ref: str) -> str | None:
    """`image_tag_problem` as a phrase for CI messages ("has no tag, so it means `latest`")."""
    problem = image_tag_problem(ref)
    return _PIN_PHRASES[problem] if problem else None


def span(start: Node, end: Node | None = None) -> Position:
    """From the start of `start` to the end of `end` (default: `start` itself)."""
    first = node_position(start)
    last = node_position(end) if end is not None else first
    return Position(first.line, first.column, last.end_line, last.end_column)


def fields(node: Node | None) -> Fields:
    """A mapping's keys indexed once (merges resolved, first occurrence wins like `get`)."""
    found: Fields = {}
    for key, value in items(node):
        found.setdefault(key.value, (key, value))
    return found
