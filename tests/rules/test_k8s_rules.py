"""DT-K rules on realistic manifests: every workload kind, container overrides, exact positions."""

from __future__ import annotations

import base64

import pytest

from core.models import Finding
from core.scan import scan_text
from tests.rules.support import sliced, spans


def scan(text: str, rule_id: str, path: str = "deploy/app.yaml") -> list[Finding]:
    return [f for f in scan_text(path, text) if f.rule_id == rule_id]


HARDENED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: api
          image: ghcr.io/shop/api:2.4.1
          resources:
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: api-db, key: password}
            - name: LOG_LEVEL
              value: info
"""


def test_hardened_deployment_has_no_findings() -> None:
    found = [f for f in scan_text("deploy/api.yaml", HARDENED) if f.rule_id.startswith("DT-K")]
    assert found == []


RISKY = """\
# Two workloads in one file
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      hostNetwork: true
      hostPID: true
      hostIPC: true
      initContainers:
        - name: setup
          image: busybox
          securityContext:
            privileged: true
      containers:
        - name: agent
          image: corp/agent:latest
          securityContext:
            allowPrivilegeEscalation: true
            runAsUser: 0
            capabilities:
              add: ["SYS_ADMIN", "NET_BIND_SERVICE", "NET_ADMIN"]
          env:
            - name: AGENT_API_KEY
              value: "ak_live_9fK2xQm7LpZ4vR8t"
      volumes:
        - name: docker
          hostPath:
            path: /var/run/docker.sock
        - name: host-etc
          hostPath:
            path: /etc
        - name: logs
          hostPath:
            path: /var/log
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: corp/report@sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000
              securityContext:
                privileged: true
"""


def test_privileged_in_init_containers_and_cronjobs() -> None:
    found = scan(RISKY, "DT-K001")
    assert spans(found) == [(20, 13, 20, 29), (58, 17, 58, 33)]
    assert "DaemonSet/node-agent container 'setup'" in found[0].message
    assert "CronJob/report container 'report'" in found[1].message
    path = "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"
    assert ("path", path) in found[1].extra


@pytest.mark.parametrize(
    ("rule_id", "line", "end"), [("DT-K002", 13, 24), ("DT-K003", 14, 20), ("DT-K004", 15, 20)]
)
def test_host_namespaces(rule_id: str, line: int, end: int) -> None:
    found = scan(RISKY, rule_id)
    assert spans(found) == [(line, 7, line, end)]
    assert found[0].message.startswith("DaemonSet/node-agent shares the node's")


def test_host_namespace_false_is_fine() -> None:
    assert scan(RISKY.replace("hostPID: true", "hostPID: false"), "DT-K003") == []


def test_privilege_escalation_explicit_and_missing() -> None:
    found = scan(RISKY, "DT-K005")
    # setup: not set (points at its name); agent: explicitly true; report: not set
    assert sliced(RISKY, found) == ["name: setup", "allowPrivilegeEscalation: true", "name: report"]
    assert spans(found)[1] == (25, 13, 25, 43)


def test_root_user_and_container_overrides() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: tools
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
  containers:
    - name: shell
      image: corp/tools:1.2
    - name: debug
      image: corp/tools:1.2
      securityContext:
        runAsUser: 0
    - name: legacy
      image: corp/legacy:0.9
      securityContext:
        runAsNonRoot: false
        runAsUser: 1000
"""
    found = scan(text, "DT-K006")
    assert spans(found) == [(15, 20, 15, 21)]
    assert "'debug' runs as root (runAsUser: 0)" in found[0].message
    pod_context = "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n"
    without_pod_context = text.replace(pod_context, "")
    assert sliced(without_pod_context, scan(without_pod_context, "DT-K006")) == ["name: shell", "0"]


def test_dangerous_capabilities_and_drop_all() -> None:
    caps = scan(RISKY, "DT-K007")
    assert sliced(RISKY, caps) == ['"SYS_ADMIN"', '"NET_ADMIN"']
    assert spans(caps)[0] == (28, 21, 28, 32)
    dropped = scan(RISKY, "DT-K008")
    assert sliced(RISKY, dropped) == ["name: agent"]  # privileged containers are DT-K001's business


def test_runtime_socket_and_sensitive_host_paths() -> None:
    socket = scan(RISKY, "DT-K009")
    assert spans(socket) == [(35, 19, 35, 39)]
    assert "volume 'docker'" in socket[0].message
    paths = scan(RISKY, "DT-K010")
    assert spans(paths) == [(38, 19, 38, 23)]  # /var/log (log collectors) is not reported


def test_unpinned_images_digest_is_fine() -> None:
    found = scan(RISKY, "DT-K011")
    assert sliced(RISKY, found) == ["busybox", "corp/agent:latest"]
    assert "has no tag" in found[0].message


def test_missing_limits() -> None:
    text = HARDENED.replace("limits: {cpu: 500m, memory: 256Mi}", "limits: {memory: 256Mi}")
    found = scan(text, "DT-K012")
    assert spans(found) == [(20, 11, 20, 20)]
    assert found[0].message.endswith("has no cpu limit")
    none = scan(RISKY, "DT-K012")
    assert sliced(RISKY, none) == ["name: setup", "name: agent", "name: report"]


def test_read_only_root_filesystem() -> None:
    assert scan(HARDENED, "DT-K013") == []
    text = HARDENED.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    assert spans(scan(text, "DT-K013")) == [(24, 13, 24, 42)]


def test_plaintext_env_secret_is_redacted() -> None:
    found = scan(RISKY, "DT-K014")
    assert spans(found) == [(31, 22, 31, 48)]
    assert "ak_live_9fK2xQm7LpZ4vR8t" not in found[0].message
    assert "AGENT_API_KEY" in found[0].message and "sha256:" in found[0].message
    assert "ak_live" not in found[0].snippet + repr(found[0].extra)


def test_env_placeholders_and_refs_are_fine() -> None:
    extra = "\n            - name: API_TOKEN\n              value: changeme"
    text = HARDENED.replace("value: info", "value: info" + extra)
    assert scan(text, "DT-K014") == []


def test_service_account_token() -> None:
    found = scan(RISKY, "DT-K015")
    assert sliced(RISKY, found) == ["spec", "spec"]
    assert spans(found) == [(12, 5, 12, 9), (52, 9, 52, 13)]
    account = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: batch
automountServiceAccountToken: false
---
apiVersion: v1
kind: Pod
metadata:
  name: once
spec:
  serviceAccountName: batch
  containers:
    - name: once
      image: corp/once:1.0
"""
    assert scan(account, "DT-K015") == []
    assert len(scan(account.replace("name: batch\nauto", "name: other\nauto"), "DT-K015")) == 1


def test_secret_manifest_with_real_values() -> None:
    token = base64.b64encode(b"ghp_R4nd0mT0k3nV4lu3xYz12").decode()
    cert = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB...").decode()
    text = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: api-credentials
type: Opaque
data:
  github-token: {token}
  tls.crt: {cert}
stringData:
  username: api
  password: Zq8-Lm2-Xv9-Tr4
  placeholder: changeme
"""
    found = scan(text, "DT-K016")
    assert sliced(text, found) == [token, "Zq8-Lm2-Xv9-Tr4"]
    assert all("Zq8-Lm2" not in f.message and "ghp_R4nd" not in f.message for f in found)


def test_list_kind_items_are_scanned() -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata:
      name: one
    spec:
      containers:
        - name: main
          image: nginx:1.27
          securityContext:
            privileged: true
"""
    found = scan(text, "DT-K001")
    assert spans(found) == [(13, 13, 13, 29)]
    assert ("path", "items[0].spec.containers[0].securityContext.privileged") in found[0].extra


def test_fingerprint_anchor_names_workload_and_container() -> None:
    a = scan(RISKY, "DT-K001")
    b = scan(RISKY.replace("# Two workloads in one file\n", "# Two workloads\n# in one file\n"), "DT-K001")
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b]  # stable across unrelated edits
    assert a[0].fingerprint != a[1].fingerprint


def test_suppressions_ours_and_checkov() -> None:
    line = "      hostNetwork: true\n"
    ours = RISKY.replace(line, "      # devops-tui: ignore[DT-K002]\n" + line)
    assert scan(ours, "DT-K002") == []
    checkov = RISKY.replace("            privileged: true\n      containers:",
                            "            privileged: true  # checkov:skip=CKV_K8S_16\n      containers:")
    assert sliced(checkov, scan(checkov, "DT-K001")) == ["privileged: true"]  # only the CronJob's remains
    unrelated = RISKY.replace(line, "      hostNetwork: true  # checkov:skip=CKV_K8S_16\n")
    assert len(scan(unrelated, "DT-K002")) == 1


def test_non_workloads_and_other_kinds_are_quiet() -> None:
    text = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  LOG_LEVEL: info
"""
    assert [f for f in scan_text("k8s/web.yaml", text) if f.rule_id.startswith("DT-K")] == []


MALFORMED = [
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: []\n",
    "apiVersion: v1\nkind: Pod\nspec:\n  containers: {name: c}\n  volumes: [{hostPath: /etc}]\n",
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - just-a-string\n    - name: [x]\n"
    "      securityContext: {runAsUser: abc, capabilities: {add: SYS_ADMIN}}\n      env: [{value: {a: 1}}]\n",
    "apiVersion: apps/v1\nkind: CronJob\nspec:\n  jobTemplate: null\n",
    "apiVersion: v1\nkind: List\nitems: {not: a list}\n",
    "apiVersion: v1\nkind: Secret\ndata:\n  key: '%%%not-base64'\n  bin: /w==\n",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_manifests_never_crash_a_rule(text: str) -> None:
    found = scan_text("k8s/odd.yaml", text)
    assert [f.message for f in found if f.rule_id == "DT-X001"] == []


def test_argo_rollout_is_a_workload() -> None:
    rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout"
    text = HARDENED.replace("apiVersion: apps/v1\nkind: Deployment", rollout)
    text = text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    assert [f.message for f in scan(text, "DT-K013")] == [
        "Rollout/api container 'api' does not set readOnlyRootFilesystem: true"
    ]
