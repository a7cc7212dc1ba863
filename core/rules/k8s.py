"""DT-K rules: security checks on Kubernetes workload manifests.

Contract: `manifest(parsed)` finds, once per file, every pod spec in every document — Pods, Deployments,
StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs (`jobTemplate.spec.template`),
PodTemplates, Argo Rollouts, DeploymentConfigs and the items of `kind: List` — and every container in it
(`initContainers`, `containers`, `ephemeralContainers`). Rules yield hits on the offending field, or on
the container's `name` when a setting is missing, with messages naming `Kind/name` and the container,
anchors like "Deployment/api/web:privileged", and `fix_data` carrying the YAML key path for the fixer.
Container settings override pod settings where Kubernetes says they do (runAsUser, runAsNonRoot).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
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
    is_false,
    is_runtime_socket,
    is_true,
    normalise_capability,
    sensitive_host_path,
    span,
)
from core.secrets.keywords import is_placeholder, looks_like_secret_assignment, shannon_entropy
from core.yamlnodes import MappingNode, Node, ScalarNode, get, get_key, node_position, scalar, seq

KINDS = (FileKind.K8S,)

#: Kinds whose pod spec is `spec.template.spec` (Argo Rollouts and OpenShift DeploymentConfigs too).
_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "Rollout",
     "DeploymentConfig"}
)
_CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")


def _value(found: Fields, key: str) -> Node | None:
    entry = found.get(key)
    return entry[1] if entry else None


@dataclass(frozen=True, slots=True, eq=False)
class Workload:
    """One pod spec and where it sits: `spec_key` is the `spec:` key holding it, `path` its key path.
    `fields` and `security` index the pod spec and its securityContext."""

    kind: str
    name: str
    pod: MappingNode
    spec_key: ScalarNode
    path: str
    fields: Fields
    security: Fields

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    def fix(self, path: str) -> tuple[tuple[str, str], ...]:
        return (("workload", self.label), ("path", f"{self.path}.{path}" if path else self.path))


@dataclass(frozen=True, slots=True, eq=False)
class Container:
    """One container of a workload; `group` is containers, initContainers or ephemeralContainers.
    `fields` and `context` index the container mapping and its securityContext."""

    workload: Workload
    group: str
    index: int
    name: str
    node: MappingNode
    fields: Fields
    context: Fields

    def get(self, key: str) -> Node | None:
        return _value(self.fields, key)

    @property
    def label(self) -> str:
        return f"{self.workload.label} container '{self.name}'"

    @property
    def path(self) -> str:
        return f"{self.group}[{self.index}]"

    def anchor(self, what: str) -> str:
        return f"{self.workload.label}/{self.name}:{what}"

    def fix(self, field: str = "") -> tuple[tuple[str, str], ...]:
        path = f"{self.path}.{field}" if field else self.path
        return (*self.workload.fix(path), ("container", self.name))

    def position(self) -> Position:
        """Where a missing setting is reported: the container's `name: …` (or its first line)."""
        found = self.fields.get("name")
        if found is not None:
            return span(*found)
        first = node_position(self.node)
        return Position(first.line, first.column, first.line, first.column + 1)

    def security(self, key: str) -> Node | None:
        return _value(self.context, key)

    def effective(self, key: str) -> Node | None:
        """A securityContext field, the container's value overriding the pod's."""
        own = _value(self.context, key)
        return own if own is not None else _value(self.workload.security, key)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything the rules need from one file, computed once."""

    workloads: tuple[Workload, ...]
    containers: tuple[Container, ...]
    #: ServiceAccounts defined in the same file with automountServiceAccountToken: false.
    no_automount_accounts: frozenset[str]
    secrets: tuple[MappingNode, ...]


def _pod_spec(doc: MappingNode, kind: str) -> tuple[Node | None, Node | None, str]:
    """(pod spec node, the `spec` key holding it, its key path) for a workload kind."""
    if kind == "Pod":
        return get(doc, "spec"), get_key(doc, "spec"), "spec"
    if kind in _TEMPLATE_KINDS:
        template = get(get(doc, "spec"), "template")
        return get(template, "spec"), get_key(template, "spec"), "spec.template.spec"
    if kind == "CronJob":
        template = get(get(get(get(doc, "spec"), "jobTemplate"), "spec"), "template")
        return get(template, "spec"), get_key(template, "spec"), "spec.jobTemplate.spec.template.spec"
    if kind == "PodTemplate":
        template = get(doc, "template")
        return get(template, "spec"), get_key(template, "spec"), "template.spec"
    return None, None, ""


def _collect(doc: Node, prefix: str, out: list[Workload], accounts: set[str],
             secrets: list[MappingNode], depth: int = 0) -> None:
    if not isinstance(doc, MappingNode) or depth > 3:
        return
    kind = scalar(get(doc, "kind")) or ""
    if kind.endswith("List"):
        for index, item in enumerate(seq(get(doc, "items"))):
            _collect(item, f"{prefix}items[{index}].", out, accounts, secrets, depth + 1)
        return
    name = scalar(get(get(doc, "metadata"), "name")) or "unnamed"
    if kind == "ServiceAccount":
        if is_false(get(doc, "automountServiceAccountToken")):
            accounts.add(name)
        return
    if kind == "Secret":
        secrets.append(doc)
        return
    pod, key, path = _pod_spec(doc, kind)
    if isinstance(pod, MappingNode) and isinstance(key, ScalarNode):
        pod_fields = fields(pod)
        security = fields(_value(pod_fields, "securityContext"))
        out.append(Workload(kind, name, pod, key, prefix + path, pod_fields, security))


def _build(parsed: ParsedFile) -> Manifest:
    workloads: list[Workload] = []
    accounts: set[str] = set()
    secret_docs: list[MappingNode] = []
    for doc in parsed.docs:
        _collect(doc, "", workloads, accounts, secret_docs)
    containers = []
    for workload in workloads:
        for group in _CONTAINER_GROUPS:
            for index, node in enumerate(seq(_value(workload.fields, group))):
                if isinstance(node, MappingNode):
                    own = fields(node)
                    name = scalar(_value(own, "name")) or f"#{index}"
                    context = fields(_value(own, "securityContext"))
                    containers.append(Container(workload, group, index, name, node, own, context))
    return Manifest(tuple(workloads), tuple(containers), frozenset(accounts), tuple(secret_docs))


#: The file's workloads and containers, built once per file for all DT-K rules.
manifest = FileCache(_build)


def _field_hit(container: Container, key: str, message: str, what: str) -> Hit:
    """A hit on `key: value` inside the container's securityContext."""
    found = container.context.get(key)
    where = span(*found) if found is not None else container.position()
    fix = container.fix(f"securityContext.{key}")
    return Hit(where, message, anchor=container.anchor(what), fix_data=fix)


def _as_int(node: Node | None) -> int | None:
    try:
        return int(scalar(node) or "")
    except ValueError:
        return None


# --------------------------------------------------------------------------- privileges


@rule(
    "DT-K001",
    "Privileged container",
    Severity.HIGH,
    KINDS,
    help="""
A privileged container gets every capability and every device of the node and runs without seccomp or
AppArmor confinement: escaping to the node is trivial. Set `securityContext.privileged: false` (or remove
it) and grant only the capability the workload needs; node agents that truly need it belong in a
dedicated namespace with a policy exception.
""",
    aliases=("checkov:CKV_K8S_16", "trivy:KSV017", "kics:Container Is Privileged"),
)
def privileged(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        if is_true(container.security("privileged")):
            yield _field_hit(container, "privileged", f"{container.label} runs privileged", "privileged")


def _register_host_namespace(rule_id: str, key: str, title: str, what: str, help: str,
                             aliases: tuple[str, ...]) -> None:
    """hostNetwork, hostPID and hostIPC share one check on the pod spec."""

    def check(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
        for workload in manifest(parsed).workloads:
            found = workload.fields.get(key)
            if found is not None and is_true(found[1]):
                yield Hit(
                    span(*found),
                    f"{workload.label} shares the node's {what} ({key}: true)",
                    anchor=f"{workload.label}:{key}",
                    fix_data=workload.fix(key),
                )

    check.__name__ = f"host_{key}"
    rule(rule_id, title, Severity.HIGH, KINDS, help=help, aliases=aliases)(check)


_register_host_namespace(
    "DT-K002", "hostNetwork", "Pod uses the host network", "network namespace",
    help="""
With `hostNetwork: true` the pod uses the node's network stack: it can reach services bound to the
node's localhost (the kubelet, metadata endpoints), sniff node traffic with NET_RAW and bypasses
NetworkPolicies. Remove it and expose the pod through a Service; only CNI and node agents need it.
""",
    aliases=("checkov:CKV_K8S_19", "trivy:KSV009"),
)
_register_host_namespace(
    "DT-K003", "hostPID", "Pod shares the host PID namespace", "process namespace",
    help="""
With `hostPID: true` the pod sees every process on the node, including other pods', can read their
environment and command lines and, with ptrace, attach to them. Remove it; use
`shareProcessNamespace: true` if containers of the same pod must see each other.
""",
    aliases=("checkov:CKV_K8S_17", "trivy:KSV010"),
)
_register_host_namespace(
    "DT-K004", "hostIPC", "Pod shares the host IPC namespace", "IPC namespace",
    help="""
With `hostIPC: true` the pod can read and write the shared memory and message queues of every process on
the node. Remove it; containers of one pod already share an IPC namespace with each other.
""",
    aliases=("checkov:CKV_K8S_18", "trivy:KSV008"),
)


@rule(
    "DT-K005",
    "Privilege escalation allowed",
    Severity.MEDIUM,
    KINDS,
    help="""
Unless `allowPrivilegeEscalation` is explicitly false, a process in the container can gain privileges
through setuid binaries or file capabilities after an attacker gets code execution. Set
`securityContext.allowPrivilegeEscalation: false` on every container; it is required by the
"restricted" Pod Security Standard.
""",
    aliases=("checkov:CKV_K8S_20", "trivy:KSV001", "kics:Privilege Escalation Allowed"),
)
def privilege_escalation(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        value = container.security("allowPrivilegeEscalation")
        if is_false(value):
            continue
        how = "allows" if is_true(value) else "does not set allowPrivilegeEscalation: false, so it allows"
        yield _field_hit(container, "allowPrivilegeEscalation",
                         f"{container.label} {how} privilege escalation", "allowPrivilegeEscalation")


@rule(
    "DT-K006",
    "Container may run as root",
    Severity.MEDIUM,
    KINDS,
    help="""
A container without `runAsNonRoot: true` or a non-zero `runAsUser` runs as whatever user its image
declares — root for most images — so a breakout starts as root on the node. Set
`securityContext.runAsNonRoot: true` and a `runAsUser` above 0 on the pod or the container (a container's
value overrides the pod's), and make sure the image works as that user.
""",
    aliases=("checkov:CKV_K8S_23", "trivy:KSV012"),
)
def runs_as_root(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        user_node = container.effective("runAsUser")
        user = _as_int(user_node)
        if user == 0 and isinstance(user_node, ScalarNode):
            yield Hit(node_position(user_node), f"{container.label} runs as root (runAsUser: 0)",
                      anchor=container.anchor("runAsUser"),
                      fix_data=container.fix("securityContext.runAsUser"))
            continue
        if (user is not None and user > 0) or is_true(container.effective("runAsNonRoot")):
            continue
        non_root = container.effective("runAsNonRoot")
        where = node_position(non_root) if isinstance(non_root, ScalarNode) else container.position()
        yield Hit(
            where,
            f"{container.label} does not set runAsNonRoot: true or a non-zero runAsUser, so it runs as "
            "the image's user (root for most images)",
            anchor=container.anchor("runAsNonRoot"),
            fix_data=container.fix("securityContext.runAsNonRoot"),
        )


def _capabilities(container: Container, which: str) -> list[Node]:
    return seq(get(container.security("capabilities"), which))


@rule(
    "DT-K007",
    "Dangerous capability added",
    Severity.HIGH,
    KINDS,
    help="""
Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or ALL let a process break out of the
container or take over the node's network, kernel or other pods' processes. Remove them from
`securityContext.capabilities.add`; add only narrow capabilities such as NET_BIND_SERVICE.
""",
    aliases=("checkov:CKV_K8S_39", "trivy:KSV005", "trivy:KSV022"),
)
def dangerous_caps(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        for item in _capabilities(container, "add"):
            cap = normalise_capability(scalar(item) or "")
            if cap in DANGEROUS_CAPABILITIES:
                yield Hit(node_position(item), f"{container.label} adds the {cap} capability",
                          anchor=container.anchor(f"cap:{cap}"),
                          fix_data=container.fix("securityContext.capabilities.add"))


@rule(
    "DT-K008",
    "Capabilities not dropped",
    Severity.LOW,
    KINDS,
    help="""
The container runtime grants a default set of capabilities (NET_RAW, CHOWN, SETUID …) that most
programs never need and attackers use, for example NET_RAW for spoofing on the pod network. Add
`securityContext.capabilities.drop: [ALL]` and add back only what the program needs.
""",
    aliases=("checkov:CKV_K8S_37", "trivy:KSV003"),
)
def no_drop_all(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        if is_true(container.security("privileged")):
            continue
        dropped = {normalise_capability(scalar(i) or "") for i in _capabilities(container, "drop")}
        if "ALL" not in dropped:
            yield Hit(container.position(), f"{container.label} does not drop ALL capabilities",
                      anchor=container.anchor("drop-all"),
                      fix_data=container.fix("securityContext.capabilities.drop"))


# --------------------------------------------------------------------------- host paths


def _host_paths(workload: Workload) -> Iterator[tuple[str, str, Node]]:
    """(volume name, host path, path node) for every hostPath volume of a pod."""
    for volume in seq(_value(workload.fields, "volumes")):
        path_node = get(get(volume, "hostPath"), "path")
        path = scalar(path_node)
        if path and path_node is not None:
            yield scalar(get(volume, "name")) or "?", path, path_node


@rule(
    "DT-K009",
    "Container runtime socket mounted",
    Severity.HIGH,
    KINDS,
    help="""
A hostPath volume of /var/run/docker.sock (or the containerd, CRI-O or Podman socket) lets the pod start
privileged containers on the node: it is root on the node and can read every other pod's secrets.
Remove the volume; build images with a daemonless builder (Kaniko, BuildKit rootless) instead.
""",
    aliases=("checkov:CKV_K8S_27", "trivy:KSV006"),
)
def runtime_socket(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for workload in manifest(parsed).workloads:
        for volume, path, node in _host_paths(workload):
            if is_runtime_socket(path):
                yield Hit(node_position(node),
                          f"{workload.label} mounts the container runtime socket {path} (volume '{volume}')",
                          anchor=f"{workload.label}:socket:{volume}", fix_data=workload.fix("volumes"))


@rule(
    "DT-K010",
    "Sensitive host path mounted",
    Severity.HIGH,
    KINDS,
    help="""
A hostPath volume of a system directory (/, /etc, /proc, /sys, /root, /var/lib/kubelet, /dev …) or a
credential store exposes node secrets and kubelet credentials, or lets the pod change the node. Use a
ConfigMap, Secret, emptyDir or PersistentVolume instead, and if a node agent really needs the path,
mount the narrowest sub-path with `readOnly: true`.
""",
    aliases=("trivy:KSV023",),
)
def sensitive_host_path_volume(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for workload in manifest(parsed).workloads:
        for volume, path, node in _host_paths(workload):
            why = sensitive_host_path(path)
            if why:
                yield Hit(node_position(node), f"{workload.label} mounts {why} (volume '{volume}')",
                          anchor=f"{workload.label}:hostPath:{volume}", fix_data=workload.fix("volumes"))


# --------------------------------------------------------------------------- images, limits, filesystem


@rule(
    "DT-K011",
    "Image not pinned to a version",
    Severity.MEDIUM,
    KINDS,
    help="""
An image without a tag or tagged `latest` can change between two pod starts, so replicas may run
different code and a rollback does not roll back. Pin a version tag, or better a digest
(`image: registry/app@sha256:…`), which also protects against a re-pushed tag.
""",
    aliases=("checkov:CKV_K8S_14", "trivy:KSV013"),
)
def unpinned_image(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        image = container.get("image")
        ref = scalar(image)
        problem = image_tag_problem(ref) if ref else None
        if image is not None and ref and problem:
            detail = "has no tag (so it means latest)" if problem == "untagged" else "uses the latest tag"
            yield Hit(node_position(image), f"{container.label} image {ref} {detail}",
                      anchor=container.anchor("image"), fix_data=container.fix("image"))


@rule(
    "DT-K012",
    "No CPU or memory limit",
    Severity.LOW,
    KINDS,
    help="""
A container without `resources.limits` can use all of the node's memory or CPU, starving or evicting
its neighbours — a bug or an attack in one pod becomes an outage of many. Set `resources.limits.memory`
(and `cpu`, or at least CPU requests) from observed usage, or enforce defaults with a LimitRange.
""",
    aliases=("checkov:CKV_K8S_11", "checkov:CKV_K8S_13", "trivy:KSV011", "trivy:KSV018"),
)
def no_limits(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        if container.group == "ephemeralContainers":
            continue  # Kubernetes does not allow resources on ephemeral containers
        limits = get(container.get("resources"), "limits")
        missing = [r for r in ("cpu", "memory") if get(limits, r) is None]
        if missing:
            found = container.fields.get("resources")
            where = node_position(found[0]) if found is not None else container.position()
            yield Hit(where, f"{container.label} has no {' or '.join(missing)} limit",
                      anchor=container.anchor("limits"), fix_data=container.fix("resources.limits"))


@rule(
    "DT-K013",
    "Root filesystem is writable",
    Severity.LOW,
    KINDS,
    help="""
A writable root filesystem lets an attacker drop tools or change the application's own files inside
the running container. Set `securityContext.readOnlyRootFilesystem: true` and mount an emptyDir for the
directories the program must write (/tmp, caches).
""",
    aliases=("checkov:CKV_K8S_22", "trivy:KSV014"),
)
def writable_root(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        if not is_true(container.security("readOnlyRootFilesystem")):
            yield _field_hit(container, "readOnlyRootFilesystem",
                             f"{container.label} does not set readOnlyRootFilesystem: true", "readOnlyRoot")


# --------------------------------------------------------------------------- secrets and tokens


@rule(
    "DT-K014",
    "Plaintext secret in env",
    Severity.HIGH,
    KINDS,
    help="""
A password or token written as an `env[].value` is stored in the repository and readable by anyone who
can read the workload object. Put it in a Secret (created outside the repository or by a secret
operator) and reference it with `valueFrom.secretKeyRef`; rotate a value that was ever committed.
""",
    tags=("security", "secret"),
)
def env_secret(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for container in manifest(parsed).containers:
        for index, entry in enumerate(seq(container.get("env"))):
            name, value = scalar(get(entry, "name")), get(entry, "value")
            text = scalar(value)
            if name and text is not None and value is not None and looks_like_secret_assignment(name, text):
                yield Hit(
                    node_position(value),
                    f"{container.label} sets {name} to a plaintext secret ({redact(text.strip())})",
                    anchor=container.anchor(f"env:{name}"),
                    fix_data=container.fix(f"env[{index}].value"),
                )


@rule(
    "DT-K015",
    "Service account token mounted",
    Severity.LOW,
    KINDS,
    help="""
By default every pod gets its service account's API token mounted; an attacker in the pod can use it
against the Kubernetes API. Set `automountServiceAccountToken: false` on the pod spec (or on its
ServiceAccount) unless the application talks to the API.
""",
    aliases=("checkov:CKV_K8S_38", "trivy:KSV036"),
)
def token_automount(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    found = manifest(parsed)
    for workload in found.workloads:
        value = _value(workload.fields, "automountServiceAccountToken")
        if is_false(value):
            continue
        account = scalar(_value(workload.fields, "serviceAccountName")) or "default"
        if value is None and account in found.no_automount_accounts:
            continue
        where = node_position(value) if isinstance(value, ScalarNode) else node_position(workload.spec_key)
        yield Hit(where, f"{workload.label} mounts the API token of service account '{account}'",
                  anchor=f"{workload.label}:automountServiceAccountToken",
                  fix_data=workload.fix("automountServiceAccountToken"))


#: Secret entries that are not secret: certificates and connection coordinates.
_PUBLIC_ENTRY = re.compile(r"(?:^|[._-])(?:crt|cert|pem|ca|user|username|host|hostname|port|database|db|"
                           r"namespace|region)$", re.IGNORECASE)
_CERTIFICATE = "-----BEGIN CERTIFICATE"


def _secret_value(text: str, encoded: bool) -> str | None:
    """The cleartext of a Secret entry, or None when it cannot be decoded."""
    if not encoded:
        return text
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


@rule(
    "DT-K016",
    "Secret manifest holds real values",
    Severity.HIGH,
    KINDS,
    help="""
A Secret's `data` is only base64-encoded, not encrypted: a Secret manifest with real values in the
repository leaks them to everyone with read access and to the git history forever. Keep only templates
in git and create the Secret from a vault (External Secrets, Sealed Secrets, SOPS) at deploy time; rotate
any value that was committed.
""",
    tags=("security", "secret"),
)
def secret_manifest(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    for doc in manifest(parsed).secrets:
        name = scalar(get(get(doc, "metadata"), "name")) or "unnamed"
        for field, encoded in (("data", True), ("stringData", False)):
            block = get(doc, field)
            if not isinstance(block, MappingNode):
                continue
            for key, value in block.value:
                text = scalar(value)
                clear = _secret_value(text, encoded) if text else None
                if (not clear or _PUBLIC_ENTRY.search(key.value) or clear.startswith(_CERTIFICATE)
                        or is_placeholder(clear) or shannon_entropy(clear) < 2.0):
                    continue
                yield Hit(
                    node_position(value),
                    f"Secret/{name} holds a real value for {key.value} ({redact(clear)})",
                    anchor=f"Secret/{name}:{field}:{key.value}",
                    fix_data=(("workload", f"Secret/{name}"), ("path", f"{field}.{key.value}")),
                )
