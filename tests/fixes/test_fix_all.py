"""fix_all / plan_fixes: many instances in one file, chained rules, safe-only, refusals, freshness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.discovery import build_index
from core.fixes import fix_all, fix_for, plan_fixes
from core.patching import Safety, apply_proposal
from core.scan import scan_index

PIP_THREE = """\
FROM python:3.12-slim
# app dependencies
RUN pip install -r requirements.txt
RUN pip install -r requirements.txt
RUN python -m pip install \\
    --upgrade pip==24.0
CMD ["python", "-m", "app"]
"""

STEP_TWICE = """\
on:
  pull_request_target:
    types: [opened]
permissions:
  contents: read
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - name: Greet
        env:
          LOG: info
        run: |
          echo "Title: ${{ github.event.pull_request.title }}"
          echo ${{ github.event.pull_request.title }} >> log.txt
          echo 'Body: ${{ github.event.pull_request.body }}'
"""


def _rules(root: Path) -> list[tuple[str, str, int]]:
    return [(f.rule_id, f.path, f.line) for f in scan_index(build_index(root))]


def test_fix_all_of_one_rule_in_one_file(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": PIP_THREE + "USER 10001\nHEALTHCHECK NONE\n"})
    index = build_index(root)
    findings = scan_index(index)
    assert [f.line for f in findings if f.rule_id == "DT-D026"] == [3, 4, 5]
    proposal = fix_all(findings, index, rule="DT-D026", path="Dockerfile")
    assert proposal is not None and len(proposal.edits) == 1 and proposal.safety is Safety.SAFE
    assert len(proposal.finding_fingerprints) == 3
    apply_proposal(root, proposal)
    text = (root / "Dockerfile").read_text()
    assert text.splitlines()[1:6] == [
        "# app dependencies",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "RUN python -m pip install --no-cache-dir \\",
        "    --upgrade pip==24.0",
    ]
    assert "DT-D026" not in {r for r, _, _ in _rules(root)}


def test_fix_all_injections_in_one_step_share_one_env_block(make_repo: Callable[..., Path]) -> None:
    root = make_repo({".github/workflows/greet.yml": STEP_TWICE})
    index = build_index(root)
    findings = scan_index(index)
    assert sum(f.rule_id == "DT-G001" for f in findings) == 3
    plan = plan_fixes(findings, index, rule=["DT-G001"])
    assert plan.proposal is not None and not plan.skipped and len(plan.fixed) == 3
    apply_proposal(root, plan.proposal)
    text = (root / ".github/workflows/greet.yml").read_text()
    assert text.split("      - name: Greet\n")[1] == (
        "        env:\n"
        "          LOG: info\n"
        "          REQUEST_TITLE: ${{ github.event.pull_request.title }}\n"
        "          REQUEST_BODY: ${{ github.event.pull_request.body }}\n"
        "        run: |\n"
        '          echo "Title: ${REQUEST_TITLE}"\n'
        '          echo "${REQUEST_TITLE}" >> log.txt\n'
        "          echo 'Body: '\"${REQUEST_BODY}\"''\n"
    )
    assert "DT-G001" not in {r for r, _, _ in _rules(root)}


K8S = """\
apiVersion: v1
kind: Pod
metadata:
  name: tool
spec:
  automountServiceAccountToken: false
  containers:
  - name: tool   # the only container
    image: registry.example.com/tool:2.1.0
    resources:
      limits: {cpu: 100m, memory: 64Mi}
"""


def test_chained_rules_build_one_security_context(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"k8s/pod.yaml": K8S})
    index = build_index(root)
    proposal = fix_all(scan_index(index), index)
    assert proposal is not None and proposal.safety is Safety.REVIEW
    assert set(proposal.rule_ids) == {"DT-K005", "DT-K006", "DT-K008", "DT-K013"}
    apply_proposal(root, proposal)
    assert (root / "k8s/pod.yaml").read_text() == K8S + (
        "    securityContext:\n"
        "      allowPrivilegeEscalation: false\n"
        "      runAsNonRoot: true\n"
        "      capabilities:\n"
        "        drop:\n"
        "        - ALL\n"
        "      readOnlyRootFilesystem: true\n"
    )
    assert not [r for r, _, _ in _rules(root) if r.startswith("DT-K")]


def test_safe_only_leaves_review_fixes_out(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": "FROM python:3.12-slim\nRUN pip install flask==3.0.2\nCMD [\"flask\"]\n"})
    index = build_index(root)
    plan = plan_fixes(scan_index(index), index, safe_only=True)
    assert plan.proposal is not None and plan.proposal.safety is Safety.SAFE
    assert plan.proposal.rule_ids == ("DT-D026",)
    assert {s.rule_id for s in plan.skipped} == {"DT-D004", "DT-D036"}
    assert all("review" in s.reason for s in plan.skipped)


def test_instances_that_need_a_person_are_not_fixed(make_repo: Callable[..., Path]) -> None:
    heredoc = "          cat <<'EOF'\n          ${{ github.event.pull_request.title }}\n          EOF\n"
    workflow = STEP_TWICE.replace("        run: |\n", "        run: |\n" + heredoc, 1)
    root = make_repo({
        "Dockerfile": "FROM alpine:3.19\nUSER 10001\nHEALTHCHECK NONE\nCMD exec /app --port $PORT\n",
        ".github/workflows/greet.yml": workflow,
    })
    index = build_index(root)
    findings = scan_index(index)
    shell_cmd = next(f for f in findings if f.rule_id == "DT-D032")
    assert fix_for(shell_cmd, index) is None
    quoted = next(f for f in findings if f.rule_id == "DT-G001" and f.line == 15)
    assert fix_for(quoted, index) is None
    plan = plan_fixes(findings, index, rule=["DT-D032", "DT-G001"])
    reasons = {(s.rule_id, s.line): s.reason for s in plan.skipped}
    assert "shell features" in reasons[("DT-D032", 4)]
    assert "heredoc quoted" in reasons[("DT-G001", 15)]
    assert plan.proposal is not None and len(plan.fixed) == 3  # the other three injections


def test_changed_file_is_never_fixed_from_a_stale_scan(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"Dockerfile": PIP_THREE})
    index = build_index(root)
    finding = next(f for f in scan_index(index) if f.rule_id == "DT-D026")
    (root / "Dockerfile").write_text(PIP_THREE + "# edited meanwhile\n")
    assert fix_for(finding, index) is None
    plan = plan_fixes([finding], index)
    assert plan.proposal is None and "changed since it was scanned" in plan.skipped[0].reason


def test_suppressed_findings_are_not_fixed(make_repo: Callable[..., Path]) -> None:
    text = PIP_THREE.replace("# app dependencies", "# hadolint ignore=DL3042")
    root = make_repo({"Dockerfile": text})
    index = build_index(root)
    proposal = fix_all(scan_index(index), index, rule="DT-D026")
    assert proposal is not None
    apply_proposal(root, proposal)
    lines = (root / "Dockerfile").read_text().splitlines()
    assert lines[2] == "RUN pip install -r requirements.txt"  # suppressed: left alone
    assert lines[3] == "RUN pip install --no-cache-dir -r requirements.txt"


COMPOSE = """\
services:
  api:
    image: registry.example.com/api:1.4
    environment:
      - DB_PASSWORD=Xk9vQ2mLp7Rw4tZa
  admin:
    image: registry.example.com/admin:1.4
    environment:
      DB_PASSWORD: Qz8wE4rT6yU1iO3p
"""


def test_secrets_move_to_variables_and_side_files_merge(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"deploy/docker-compose.yml": COMPOSE,
                      "deploy/.env.example": "# names only\nLOG_LEVEL=info",
                      ".gitignore": "*.env\n.env\n"})
    index = build_index(root)
    proposal = fix_all(scan_index(index), index, rule="DT-C013")
    assert proposal is not None and proposal.safety is Safety.REVIEW
    assert sorted(e.path for e in proposal.edits) == ["deploy/.env.example", "deploy/docker-compose.yml"]
    apply_proposal(root, proposal)
    text = (root / "deploy/docker-compose.yml").read_text()
    assert "      - DB_PASSWORD=${API_DB_PASSWORD:?set API_DB_PASSWORD in .env}\n" in text
    assert "      DB_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD in .env}\n" in text
    assert (root / "deploy/.env.example").read_text() == \
        "# names only\nLOG_LEVEL=info\nAPI_DB_PASSWORD=\nDB_PASSWORD="  # no final newline, as before
    assert (root / ".gitignore").read_text() == "*.env\n.env\n"  # .env was already ignored
    assert "DT-C013" not in {r for r, _, _ in _rules(root)}


def test_crlf_dockerfile_keeps_its_line_endings(make_repo: Callable[..., Path]) -> None:
    text = "FROM alpine:3.19\r\nMAINTAINER ops@example.com\r\nUSER 10001\r\nHEALTHCHECK NONE\r\n"
    root = make_repo({"Dockerfile": text.encode()})
    index = build_index(root)
    proposal = fix_all(scan_index(index), index, rule="DT-D033")
    assert proposal is not None
    apply_proposal(root, proposal)
    assert (root / "Dockerfile").read_bytes() == (
        b'FROM alpine:3.19\r\nLABEL org.opencontainers.image.authors="ops@example.com"\r\nUSER 10001\r\n'
        b"HEALTHCHECK NONE\r\n")
