"""GitLab CI rules (DT-L…) on realistic pipelines: anchors, `extends:`, `default:`, nested scripts."""

from __future__ import annotations

import textwrap
from pathlib import Path

from core.discovery import build_index
from core.models import Finding, Severity
from core.rules.base import registered_rules
from core.scan import scan_index, scan_text
from tests.rules.support import at, where

PATH = ".gitlab-ci.yml"


def scan(rule_id: str, text: str) -> list[Finding]:
    return [f for f in scan_text(PATH, textwrap.dedent(text)) if f.rule_id == rule_id]


PIPELINE = """\
    # GitLab pipeline of the shop (build, test, deploy).
    stages: [build, test, deploy]

    image: alpine

    variables:
      DOCKER_TLS_CERTDIR: ""
      REGISTRY: registry.example.com/shop
      DB_PASSWORD: "Xk9#mQ2vLp8w"
      API_TOKEN: $VAULT_API_TOKEN
      SENTRY_DSN:
        value: "https://3f9a1c0d7e6b4a2f@o1.ingest.sentry.io/42"
        description: error reporting

    default:
      services:
        - docker:24-dind

    include:
      - local: ci/deploy.yml

    .deploy-template: &deploy
      stage: deploy
      image: bitnami/kubectl:latest
      when: manual

    .python:
      image:
        name: python:3.12-slim
        entrypoint: [""]
      before_script:
        - pip install -r requirements.txt

    build-api:
      stage: build
      image: docker:latest
      script:
        - docker build -t $REGISTRY/api:$CI_COMMIT_SHA services/api
        - - docker push $REGISTRY/api:$CI_COMMIT_SHA
          - curl -fsSL https://get.example.sh | sudo bash -s -- --yes

    test-api:
      extends: .python
      services: [postgres:16]
      script:
        - pytest -q
        - echo "testing $CI_COMMIT_TITLE"
        - git commit -m $CI_COMMIT_MESSAGE
        - eval "echo $CI_COMMIT_TITLE"
        - sh -c "git checkout $CI_COMMIT_REF_NAME"
        - sh -c 'git checkout "$CI_COMMIT_REF_NAME"'

    deploy-api:
      <<: *deploy
      script:
        - |
          kubectl set image deployment/api api=$REGISTRY/api:$CI_COMMIT_SHA
          ssh deploy@prod.example.com "cd /srv/api && ./release.sh $CI_MERGE_REQUEST_TITLE"
          $CI_COMMIT_MESSAGE

    deploy-web:
      <<: *deploy
      script:
        - kubectl rollout restart deployment/web
    """


def test_l001_images_and_services_once_where_written() -> None:
    findings = scan("DT-L001", PIPELINE)
    assert [where(f) for f in findings] == [
        at(PIPELINE, "alpine"),  # global image, untagged
        at(PIPELINE, "bitnami/kubectl:latest"),  # the template, not once per job using it
        at(PIPELINE, "docker:latest"),
    ]
    assert "no tag" in findings[0].message and "latest" in findings[1].message
    assert all(f.severity is Severity.MEDIUM for f in findings)


def test_l001_pinned_and_variable_images_pass_and_pragma_suppresses() -> None:
    text = """\
        image: $CI_REGISTRY_IMAGE/builder:$CI_COMMIT_SHA
        build:
          image:
            name: python@sha256:0b9ee8f2a3a9d4e6c1f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3
          services:
            - name: registry.example.com:5000/tools/redis:7.2
              alias: cache
            # devops-tui: ignore[DT-L001]
            - memcached
          script: [make]
        """
    assert scan("DT-L001", text) == []


def test_l002_curl_piped_to_shell_in_nested_script_list() -> None:
    findings = scan("DT-L002", PIPELINE)
    assert len(findings) == 1
    line, column, _ = at(PIPELINE, "curl -fsSL")
    end = at(PIPELINE, "sudo bash")[2]
    assert where(findings[0]) == (line, column, end)
    assert "bash" in findings[0].message


def test_l002_process_substitution_and_safe_download() -> None:
    text = """\
        setup:
          script:
            - bash <(curl -sL https://tool.example.com/install)
            - curl -fsSLo install.sh https://tool.example.com/install && sha256sum -c install.sha256
            - curl -s https://api.example.com/status | jq .
        """
    findings = scan("DT-L002", text)
    assert [where(f)[:2] for f in findings] == [at(text, "<(curl")[:2]]


def test_l003_code_positions_only() -> None:
    findings = scan("DT-L003", PIPELINE)
    assert [where(f) for f in findings] == [
        at(PIPELINE, "$CI_COMMIT_TITLE", 2),  # eval "…"
        at(PIPELINE, "$CI_COMMIT_REF_NAME", 1),  # sh -c "…" (the single-quoted one is safe)
        at(PIPELINE, "$CI_MERGE_REQUEST_TITLE"),  # ssh host "…" inside a literal block
        at(PIPELINE, "$CI_COMMIT_MESSAGE", 2),  # the command itself
    ]
    assert "eval" in findings[0].message and "sh -c" in findings[1].message
    assert "ssh" in findings[2].message and "command" in findings[3].message
    assert all(f.severity is Severity.HIGH for f in findings)


def test_l003_variable_defined_from_user_text_and_pragma() -> None:
    text = """\
        variables:
          TITLE: "$CI_MERGE_REQUEST_TITLE"
        notify:
          script:
            - echo "$TITLE"
            - bash -c "notify $TITLE"
            # devops-tui: ignore[DT-L003]
            - bash -c "notify-again $TITLE"
        """
    findings = scan("DT-L003", text)
    assert [where(f) for f in findings] == [at(text, "$TITLE", 2)]


def test_l004_unquoted_text_variable_but_not_branch_names() -> None:
    findings = scan("DT-L004", PIPELINE)
    assert [where(f) for f in findings] == [at(PIPELINE, "$CI_COMMIT_MESSAGE", 1)]
    assert findings[0].severity is Severity.LOW
    text = "release:\n  script:\n    - git push origin $CI_COMMIT_BRANCH\n    - echo \"$CI_COMMIT_TITLE\"\n"
    assert scan("DT-L004", text) == []


def test_l005_secrets_in_variables_are_redacted() -> None:
    findings = scan("DT-L005", PIPELINE)
    assert [where(f) for f in findings] == [
        at(PIPELINE, '"Xk9#mQ2vLp8w"'),
        at(PIPELINE, '"https://3f9a1c0d7e6b4a2f@o1.ingest.sentry.io/42"'),
    ]
    assert all("Xk9#mQ2vLp8w" not in f.message and "3f9a1c0d7e6b4a2f" not in f.message for f in findings)
    assert "DB_PASSWORD" in findings[0].message


def test_l005_finding_carries_no_snippet() -> None:
    assert all("Xk9#mQ2vLp8w" not in f.snippet for f in scan("DT-L005", PIPELINE))


def test_l005_job_variables_placeholders_and_references() -> None:
    text = """\
        deploy:
          variables:
            AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY1"
            DB_PASSWORD: changeme
            TOKEN: ${CI_JOB_TOKEN}
            PASSWORD_FILE: /run/secrets/db
          script: [./deploy.sh]
        """
    findings = scan("DT-L005", text)
    assert [where(f) for f in findings] == [at(text, '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY1"')]


def test_l006_dind_without_tls_reported_once_at_the_setting() -> None:
    findings = scan("DT-L006", PIPELINE)
    assert len(findings) == 1
    assert findings[0].position.line == at(PIPELINE, "DOCKER_TLS_CERTDIR")[0]
    assert findings[0].position.column == at(PIPELINE, '""')[1]
    # build-api gets dind from default:, test-api has its own services (postgres) so it is not listed
    assert "build-api" in findings[0].message and "test-api" not in findings[0].message
    assert "deploy-api" in findings[0].message  # the template does not override services


def test_l006_extends_and_docker_host_and_tls_on() -> None:
    text = """\
        .docker:
          services:
            - name: docker:dind
              alias: docker
          variables:
            DOCKER_HOST: tcp://docker:2375
        build:
          extends: .docker
          script: [docker build .]
        build-tls:
          extends: .docker
          variables:
            DOCKER_HOST: tcp://docker:2376
            DOCKER_TLS_CERTDIR: /certs
          script: [docker build .]
        """
    findings = scan("DT-L006", text)
    assert [where(f) for f in findings] == [at(text, "tcp://docker:2375")]
    assert "`build`" not in findings[0].message and "build" in findings[0].message
    assert "build-tls" not in findings[0].message


def test_hidden_jobs_and_keywords_are_not_jobs_and_odd_documents_do_not_crash() -> None:
    odd = [
        "stages: [a]\n",
        "- a\n- b\n",
        "job: 3\n",
        "job:\n  script: {a: 1}\n  image: [1]\n  services: bad\n  extends: [.x, 5]\n",
        "job:\n  script:\n    - [[[echo $CI_COMMIT_MESSAGE]]]\n    - 'unterminated \"quote'\n",
        "spec:\n  inputs:\n    x: {}\n---\njob:\n  image: alpine\n  script: [true]\n",
    ]
    for text in odd:
        findings = scan_text(PATH, text)
        assert not [f for f in findings if f.rule_id == "DT-X001"], (text, findings)
    component = [f for f in scan_text(PATH, odd[-1]) if f.rule_id == "DT-L001"]
    assert [(f.position.line, f.position.column) for f in component] == [(6, 10)]


def test_demo_repository_findings(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "core" / "demo" / "repo"
    (tmp_path / "ci" / "gitlab").mkdir(parents=True)
    (tmp_path / ".gitlab-ci.yml").write_text((demo / "dot-gitlab-ci.yml").read_text())
    deploy = (demo / "ci" / "gitlab" / "deploy.yml").read_text()
    (tmp_path / "ci" / "gitlab" / "deploy.yml").write_text(deploy)
    index = build_index(tmp_path)
    found = {(f.path, f.rule_id, f.position.line) for f in scan_index(index) if f.rule_id.startswith("DT-L")}
    assert (".gitlab-ci.yml", "DT-L006", 8) in found
    assert (".gitlab-ci.yml", "DT-L001", 16) in found
    assert ("ci/gitlab/deploy.yml", "DT-L001", 4) in found


def test_every_l_rule_has_help() -> None:
    rules = {k: v for k, v in registered_rules().items() if k.startswith("DT-L")}
    assert sorted(rules) == [f"DT-L00{n}" for n in range(1, 7)]
    assert all(len(r.help) > 120 for r in rules.values())
    assert "secret" in rules["DT-L005"].tags
