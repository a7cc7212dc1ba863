"""DT-C rules: security checks on Docker Compose services.

Contract: every rule walks `services:` of each composed document (merges resolved through
`core.yamlnodes.items`), yields hits on the exact key, value or list item at fault, and names the service
in its message and anchor (`service:<name>:<what>`), so a finding is stable and each service affected by
a shared `x-…: &anchor` block gets its own finding on the anchor's line — the line a user would edit.
Secret values are only ever shown through `core.redact.redact`.

What it shares with the Kubernetes rules (capabilities, host paths, image tags) is in
`core.rules.containers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.redact import redact
from core.rules.base import FileCache, Hit, ScanContext, rule
from core.rules.containers import (
    DANGEROUS_CAPABILITIES,
    Fields,
    fields,
    image_tag_problem,
    is_runtime_socket,
    is_true,
    normalise_capability,
    sensitive_host_path,
    span,
)
from core.secrets.keywords import looks_like_secret_assignment
from core.yamlnodes import MappingNode, Node, ScalarNode, get, items, node_position, scalar, seq

KINDS = (FileKind.COMPOSE,)


# --------------------------------------------------------------------------- values


def inner_position(node: ScalarNode, start: int, end: int) -> Position:
    """The character range [start, end) inside a one-line plain or quoted scalar; else the whole node."""
    mark = node.start_mark
    quoted = node.style in ("'", '"')
    if node.end_mark.line != mark.line or not (quoted or not node.style):  # libyaml: plain style is ""
        return node_position(node)
    column = mark.column + 1 + (1 if quoted else 0)
    return Position(mark.line + 1, column + start, mark.line + 1, column + end)


def key_values(node: Node | None) -> Iterator[tuple[str, str, ScalarNode, int]]:
    """`KEY: value` mappings and `- KEY=value` lists alike: (key, value, node, offset of value in node)."""
    if isinstance(node, MappingNode):
        for key, value in items(node):
            text = scalar(value)
            if text is not None and isinstance(value, ScalarNode):
                yield key.value, text, value, 0
        return
    for item in seq(node):
        text = scalar(item)
        if text is not None and isinstance(item, ScalarNode) and "=" in text:
            name, assigned = text.split("=", 1)
            yield name.strip(), assigned, item, len(name) + 1


# --------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True, eq=False)
class Service:
    """One entry of `services:`; `key` is the service-name node, the place for "missing setting" hits."""

    name: str
    key: ScalarNode
    node: MappingNode
    fields: Fields

    def get(self, key: str) -> Node | None:
        found = self.fields.get(key)
        return found[1] if found else None

    def key_of(self, key: str) -> ScalarNode | None:
        found = self.fields.get(key)
        return found[0] if found else None

    def anchor(self, what: str) -> str:
        return f"service:{self.name}:{what}"

    def fix(self, **extra: str) -> tuple[tuple[str, str], ...]:
        return (("service", self.name), *extra.items())


def _services(parsed: ParsedFile) -> tuple[Service, ...]:
    return tuple(
        Service(str(key.value), key, node, fields(node))
        for doc in parsed.docs
        for key, node in items(get(doc, "services"))
        if isinstance(node, MappingNode)
    )


#: Every service mapping of every document (x-… extension blocks are not services), built once per file.
services = FileCache(_services)


def _key_hit(svc: Service, key: str, message: str, what: str) -> Hit | None:
    """A hit spanning `key: value` of the service (on the anchor's line when merged)."""
    found = svc.fields.get(key)
    if found is None:
        return None
    key_node, value = found
    return Hit(span(key_node, value), message, anchor=svc.anchor(what), fix_data=svc.fix(key=key))


def _missing_hit(svc: Service, key: str, message: str, what: str) -> Hit:
    """A hit for a setting the service lacks: on `key` when it is there without it, else on the name."""
    where = svc.key_of(key) or svc.key
    return Hit(node_position(where), message, anchor=svc.anchor(what), fix_data=svc.fix(key=key))


# --------------------------------------------------------------------------- privileges


@rule(
    "DT-C001",
    "Service runs privileged",
    Severity.HIGH,
    KINDS,
    help="""
`privileged: true` gives the container every capability and every host device and turns off seccomp and
AppArmor, so a process that breaks into it owns the host. Remove it; if the service needs one kernel
feature, add that single capability with `cap_add` or pass the one device with `devices:`.
""",
    aliases=("kics:Privileged Containers Enabled",),
)
def privileged(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        if is_true(svc.get("privileged")):
            hit = _key_hit(svc, "privileged", f"service '{svc.name}' runs privileged", "privileged")
            if hit:
                yield hit


def _mounts(svc: Service) -> Iterator[tuple[str, bool, Node]]:
    """Bind mounts of a service: (host path, read-only, node to point at), short and long syntax."""
    for item in seq(svc.get("volumes")):
        text = scalar(item)
        if text is not None:
            parts = text.split(":")
            if len(parts) >= 2 and parts[0][:1] in ("/", "~", ".", "$"):
                read_only = len(parts) > 2 and "ro" in parts[2].split(",")
                yield parts[0], read_only, item
            continue
        source = get(item, "source")
        path = scalar(source)
        kind = scalar(get(item, "type")) or "bind"
        if source is not None and path and kind == "bind":
            yield path, is_true(get(item, "read_only")), source


@rule(
    "DT-C002",
    "Container runtime socket mounted",
    Severity.HIGH,
    KINDS,
    help="""
A service that mounts /var/run/docker.sock (or the containerd, CRI-O or Podman socket) can start a
privileged container with the host's root filesystem mounted: it is root on the host, read-only or not.
Remove the mount; for CI or tooling that must build images, use a rootless builder or a socket proxy
that only allows the API calls the service needs.
""",
    aliases=("kics:Docker Socket Mounted In Container",),
)
def runtime_socket(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        for path, _, node in _mounts(svc):
            if is_runtime_socket(path):
                yield Hit(
                    node_position(node),
                    f"service '{svc.name}' mounts the container runtime socket {path} (root on the host)",
                    anchor=svc.anchor(f"socket:{path}"),
                    fix_data=svc.fix(volume=path),
                )


@rule(
    "DT-C003",
    "Sensitive host path mounted",
    Severity.HIGH,
    KINDS,
    help="""
Bind-mounting system directories (/, /etc, /proc, /sys, /root, /var/lib/docker, /dev, /boot …) or a
credential store (~/.ssh, ~/.aws, ~/.kube) hands the container host secrets or a way to change the host.
Mount only the specific files the service needs, read-only (`:ro`), or use a named volume or a secret.
""",
    aliases=("kics:Volume Has Sensitive Host Directory",),
)
def sensitive_mount(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        for path, read_only, node in _mounts(svc):
            why = sensitive_host_path(path)
            if why:
                mode = "read-only" if read_only else "read-write"
                yield Hit(
                    node_position(node),
                    f"service '{svc.name}' mounts {why} ({mode})",
                    anchor=svc.anchor(f"mount:{path}"),
                    fix_data=svc.fix(volume=path),
                )


def _register_host_namespace(rule_id: str, key: str, title: str, severity: Severity, what: str,
                             help: str, aliases: Iterable[str]) -> None:
    """Compose's four `<key>: host` settings share one check, registered once per key."""

    def check(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
        for svc in services(parsed):
            if scalar(svc.get(key)) == "host":
                hit = _key_hit(svc, key, f"service '{svc.name}' shares the host's {what} ({key}: host)", key)
                if hit:
                    yield hit

    check.__name__ = f"host_{key}"
    rule(rule_id, title, severity, KINDS, help=help, aliases=aliases)(check)


_register_host_namespace(
    "DT-C004", "network_mode", "Service uses the host network", Severity.MEDIUM, "network namespace",
    help="""
With `network_mode: host` the container sees every host interface and can reach services that listen
only on the host's localhost (databases, cloud metadata proxies, admin sockets); its own ports are open on
every interface without Docker's port mapping. Use a user-defined network and publish only the ports needed.
""",
    aliases=("kics:Shared Host Network Namespace",),
)
_register_host_namespace(
    "DT-C005", "pid", "Service shares the host PID namespace", Severity.HIGH, "process namespace",
    help="""
With `pid: host` the container sees every process on the host, can read their command lines and
environment (often holding secrets) and, with ptrace rights, attach to them. Remove `pid: host`; a
debugging sidecar can share another container's namespace with `pid: "service:<name>"` instead.
""",
    aliases=("kics:Host Namespace is Shared",),
)
_register_host_namespace(
    "DT-C006", "ipc", "Service shares the host IPC namespace", Severity.MEDIUM, "IPC namespace",
    help="""
With `ipc: host` the container can read and write the host's shared memory segments and message
queues, where other processes may keep data. Remove it, or share IPC only between the services that
need it with `ipc: shareable` and `ipc: "service:<name>"`.
""",
    aliases=("kics:Shared Host IPC Namespace",),
)
_register_host_namespace(
    "DT-C007", "userns_mode", "Service opts out of user namespace remapping", Severity.MEDIUM,
    "user namespace",
    help="""
`userns_mode: host` disables the daemon's user-namespace remapping for this service, so root in the
container is root on the host again. Remove it unless the service truly needs host UIDs, and then run it
as a non-root `user:` instead.
""",
    aliases=("kics:Shared Host User Namespace",),
)


@rule(
    "DT-C008",
    "Dangerous capability added",
    Severity.HIGH,
    KINDS,
    help="""
Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or ALL let a process escape the
container or take over the host's network, kernel or other processes. Remove them from `cap_add`, or
replace the broad one with the narrow capability the program actually uses (NET_BIND_SERVICE, CHOWN …).
""",
    aliases=("kics:Container Capabilities Unrestricted",),
)
def dangerous_caps(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        for item in seq(svc.get("cap_add")):
            cap = normalise_capability(scalar(item) or "")
            if cap in DANGEROUS_CAPABILITIES:
                yield Hit(
                    node_position(item),
                    f"service '{svc.name}' adds the {cap} capability",
                    anchor=svc.anchor(f"cap_add:{cap}"),
                    fix_data=svc.fix(key="cap_add", capability=cap),
                )


@rule(
    "DT-C009",
    "Capabilities not dropped",
    Severity.LOW,
    KINDS,
    help="""
Docker gives every container a default set of capabilities (CHOWN, SETUID, NET_RAW, MKNOD …) that most
services never use and an attacker can. Add `cap_drop: [ALL]` and list in `cap_add` only what the
service needs; a privileged service is reported by DT-C001 instead.
""",
    aliases=("kics:Container Capabilities Unrestricted",),
)
def no_cap_drop(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        if is_true(svc.get("privileged")):
            continue
        dropped = {normalise_capability(scalar(i) or "") for i in seq(svc.get("cap_drop"))}
        if "ALL" not in dropped:
            message = f"service '{svc.name}' keeps Docker's default capabilities (no cap_drop: [ALL])"
            yield _missing_hit(svc, "cap_drop", message, "cap_drop")


_UNCONFINED = re.compile(r"^\s*(seccomp|apparmor)\s*[:=]\s*unconfined\s*$|^\s*(label)\s*[:=]\s*disable\s*$",
                         re.IGNORECASE)
_NO_NEW_PRIVS = re.compile(r"^\s*no-new-privileges\s*(?:[:=]\s*(\S+))?\s*$", re.IGNORECASE)


@rule(
    "DT-C010",
    "Security profile disabled",
    Severity.MEDIUM,
    KINDS,
    help="""
`seccomp:unconfined`, `apparmor:unconfined` or `label:disable` switch off the kernel filters that stop a
compromised container from calling dangerous system calls or touching files outside its policy. Remove
the option; if one system call is missing, write a custom seccomp profile that allows just that call.
""",
    aliases=("kics:Default Seccomp Profile Disabled",),
)
def unconfined(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        for item in seq(svc.get("security_opt")):
            match = _UNCONFINED.match(scalar(item) or "")
            if match:
                profile = (match.group(1) or match.group(2)).lower()
                yield Hit(
                    node_position(item),
                    f"service '{svc.name}' disables its {profile} profile ({scalar(item)})",
                    anchor=svc.anchor(f"security_opt:{profile}"),
                    fix_data=svc.fix(key="security_opt", option=scalar(item) or ""),
                )


@rule(
    "DT-C011",
    "no-new-privileges not set",
    Severity.LOW,
    KINDS,
    help="""
Without `no-new-privileges`, a setuid binary inside the container (su, sudo, ping on older images) can
raise a process's privileges after an attacker gets in. Add `security_opt: ["no-new-privileges:true"]`
to the service; it breaks nothing that does not rely on setuid.
""",
    aliases=("kics:No New Privileges Not Set",),
)
def no_new_privileges(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        if is_true(svc.get("privileged")):
            continue
        opts = [_NO_NEW_PRIVS.match(scalar(i) or "") for i in seq(svc.get("security_opt"))]
        if any(m and (m.group(1) is None or m.group(1).lower() == "true") for m in opts):
            continue
        yield _missing_hit(svc, "security_opt",
                           f"service '{svc.name}' does not set security_opt no-new-privileges:true",
                           "no-new-privileges")


# --------------------------------------------------------------------------- network exposure

#: Ports whose service should not face the network unauthenticated.
SENSITIVE_PORTS: dict[int, str] = {
    5432: "PostgreSQL", 3306: "MySQL", 1433: "SQL Server", 1521: "Oracle", 6379: "Redis",
    27017: "MongoDB", 27018: "MongoDB", 27019: "MongoDB", 9200: "Elasticsearch", 9300: "Elasticsearch",
    11211: "Memcached", 5672: "RabbitMQ", 15672: "RabbitMQ management", 2375: "Docker API (no TLS)",
    2376: "Docker API", 2379: "etcd", 2380: "etcd", 8500: "Consul", 5984: "CouchDB", 7474: "Neo4j",
    9042: "Cassandra", 8086: "InfluxDB", 2181: "ZooKeeper", 9092: "Kafka", 6443: "Kubernetes API",
    10250: "kubelet", 5601: "Kibana",
}
#: Admin web UIs: any port they publish is an admin console (traefik: only its dashboard port).
_ADMIN_UI_IMAGES = {
    "adminer": None, "phpmyadmin": None, "pgadmin4": None, "mongo-express": None, "redis-commander": None,
    "portainer": None, "portainer-ce": None, "kafka-ui": None, "pgweb": None, "traefik": frozenset({8080}),
}
_LOCAL_IPS = frozenset({"127.0.0.1", "::1", "localhost"})
_ALL_IPS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True, slots=True)
class PortBinding:
    host_ip: str
    container_ports: range
    host_ports: range | None


def _port_range(text: str) -> range | None:
    text = text.strip()
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        return None
    return range(first, last + 1) if 0 < first <= last < 65536 else None


def parse_port(text: str) -> PortBinding | None:
    """Compose short port syntax: `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`, IPv6 in brackets."""
    text = text.strip().strip("'\"").split("/", 1)[0]
    host_ip = ""
    if text.startswith("["):
        host_ip, _, text = text[1:].partition("]")
        text = text.lstrip(":")
        parts = text.split(":")
    else:
        parts = text.split(":")
        if len(parts) >= 3:
            host_ip, parts = ":".join(parts[:-2]), parts[-2:]
    container = _port_range(parts[-1])
    if container is None:
        return None
    host = _port_range(parts[0]) if len(parts) == 2 and parts[0] else None
    if host is None and len(parts) == 2 and parts[0] and "$" not in parts[0]:
        return None  # "db:5432" is not a port mapping Docker would accept
    return PortBinding(host_ip, container, host)


def _image_name(svc: Service) -> str:
    ref = scalar(svc.get("image")) or ""
    return ref.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()


def _exposed_service(svc: Service, binding: PortBinding) -> str | None:
    """What sensitive thing a binding on all interfaces exposes, if anything."""
    if binding.host_ip in _LOCAL_IPS or binding.host_ip not in _ALL_IPS:
        return None  # loopback, a specific interface, or a ${VARIABLE} we cannot judge
    ports = [*binding.container_ports, *(binding.host_ports or ())]
    for port in ports:
        if port in SENSITIVE_PORTS:
            return f"{SENSITIVE_PORTS[port]} port {port}"
    image = _image_name(svc)
    if image in _ADMIN_UI_IMAGES:
        only = _ADMIN_UI_IMAGES[image]
        if only is None or any(p in only for p in binding.container_ports):
            return f"the {image} admin UI"
    return None


def _port_bindings(svc: Service) -> Iterator[tuple[PortBinding, Node, str]]:
    """(binding, node to point at, text as written) for short and long port syntax."""
    for item in seq(svc.get("ports")):
        text = scalar(item)
        if text is not None:
            binding = parse_port(text)
            if binding:
                yield binding, item, text
            continue
        target = _port_range(scalar(get(item, "target")) or "")
        if target is None:
            continue
        published = scalar(get(item, "published")) or ""
        host_ip = (scalar(get(item, "host_ip")) or "").strip("[]")
        where = get(item, "host_ip") or get(item, "published") or get(item, "target") or item
        yield PortBinding(host_ip, target, _port_range(published)), where, f"{published}:{target.start}"


@rule(
    "DT-C012",
    "Sensitive port published on all interfaces",
    Severity.MEDIUM,
    KINDS,
    help="""
A port published as "5432:5432" listens on every host interface, and Docker's own firewall rules
bypass ufw/firewalld, so a database, cache, message broker, Docker API or admin UI becomes reachable from
the network. Bind it to loopback ("127.0.0.1:5432:5432", or `host_ip: 127.0.0.1`) or drop the
`ports:` entry and let other services reach it over the Compose network.
""",
    aliases=("kics:Container Traffic Not Bound To Host Interface",),
)
def exposed_ports(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        for binding, node, text in _port_bindings(svc):
            exposed = _exposed_service(svc, binding)
            if exposed:
                yield Hit(
                    node_position(node),
                    f"service '{svc.name}' publishes {exposed} on all interfaces; bind it to 127.0.0.1",
                    anchor=svc.anchor(f"port:{text}"),
                    fix_data=svc.fix(port=text, host_ip="127.0.0.1"),
                )


# --------------------------------------------------------------------------- secrets and images


def _secret_hits(svc: Service, node: Node | None, where: str, key_path: str) -> Iterator[Hit]:
    for key, value, value_node, offset in key_values(node):
        if looks_like_secret_assignment(key, value):
            shown = redact(value.strip().strip("'\""))
            inner = inner_position(value_node, offset, offset + len(value)) if offset else None
            yield Hit(
                inner or node_position(value_node),
                f"service '{svc.name}' sets {key} in {where} to a plaintext secret ({shown})",
                anchor=svc.anchor(f"{key_path}:{key}"),
                fix_data=svc.fix(key=key_path, variable=key),
            )


@rule(
    "DT-C013",
    "Plaintext secret in environment",
    Severity.HIGH,
    KINDS,
    help="""
A password or token written into `environment:` is committed with the file and shown by `docker
inspect` to anyone with access to the daemon. Reference it instead: `${DB_PASSWORD}` filled from an
untracked .env file or the shell, or a Compose `secrets:` entry read from /run/secrets. Rotate a value
that was ever committed.
""",
    tags=("security", "secret"),
)
def environment_secret(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        yield from _secret_hits(svc, svc.get("environment"), "environment", "environment")


@rule(
    "DT-C014",
    "Plaintext secret in build args",
    Severity.HIGH,
    KINDS,
    help="""
Build arguments are recorded in the image history (`docker history` shows them) and in build caches,
so a secret passed through `build.args` ships with every copy of the image. Use a BuildKit secret mount
instead (`build.secrets` in Compose, `RUN --mount=type=secret` in the Dockerfile) and rotate the value.
""",
    tags=("security", "secret"),
)
def build_arg_secret(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        yield from _secret_hits(svc, get(svc.get("build"), "args"), "build args", "build.args")


@rule(
    "DT-C015",
    "Image not pinned to a version",
    Severity.MEDIUM,
    KINDS,
    help="""
An image without a tag, or tagged `latest`, changes under you: two `docker compose pull` runs can start
different software, and a compromised or broken upstream push lands without review. Pin a version tag
(postgres:16.3) or, better, a digest (postgres@sha256:…). Services that build their own image are not
reported: their `image:` only names the build result.
""",
)
def unpinned_image(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for svc in services(parsed):
        image = svc.get("image")
        ref = scalar(image)
        if image is None or ref is None or svc.get("build") is not None:
            continue
        problem = image_tag_problem(ref)
        if problem:
            detail = "has no tag (so it means latest)" if problem == "untagged" else "uses the latest tag"
            yield Hit(
                node_position(image),
                f"service '{svc.name}' image {ref} {detail}",
                anchor=svc.anchor("image"),
                fix_data=svc.fix(key="image", image=ref),
            )
