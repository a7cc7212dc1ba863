"""Planted secrets for tests: one fake but format-valid value for every secret detector.

Import `PLANTED` — `(detector_id, value, line_template)` for every detector in
`core.secrets.DETECTORS` — to check that no secret byte reaches an output (the agent's API calls, the
TUI, the reports). `line_template` holds the literal marker `{value}` (fill it with `str.replace`, not
`format`: some templates contain JSON braces); most are one `KEY=value` line, the private key is a
multi-line PEM block. `planted_files()` renders them all as a realistic repository (.env, shell,
compose, free text); `make_planted(seed)` builds a fresh set from any seed (hypothesis uses it).

Values are derived from SHA-256 of the seed, so they are random-looking (real entropy) yet
deterministic, and the alphabet of their random parts leaves out e/E and y/Y so no random run can
spell a placeholder word such as "example" or "your". Most carry FAKE where the format allows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

MARK = "{value}"
ALNUM = "".join(
    c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" if c not in "eEyY"
)
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
DIGITS = "0123456789"
UPPER_DIGITS = "".join(c for c in ALNUM if not c.islower())


class _Stream:
    """An endless deterministic character source seeded by bytes."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def chars(self, alphabet: str, count: int) -> str:
        out: list[str] = []
        while len(out) < count:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            out.extend(alphabet[b % len(alphabet)] for b in block)
        return "".join(out[:count])


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_planted(seed: bytes = b"devops-tui") -> list[tuple[str, str, str]]:
    """One planted secret per detector: (detector_id, value, line_template)."""
    s = _Stream(seed)
    jwt_header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    jwt_payload = _b64url(json.dumps({"sub": "fake-" + s.chars(ALNUM, 8), "iat": 1700000000}).encode())
    pem_lines = [s.chars(B64, 64) for _ in range(8)] + [s.chars(B64, 20) + "=="]
    fake_pem = "-----BEGIN PRIVATE KEY-----\n" + s.chars(B64, 64) + "\n-----END PRIVATE KEY-----\n"
    docker_auth = base64.b64encode(f"fakeuser:{s.chars(ALNUM, 18)}".encode()).decode()
    return [
        ("aws-access-token", "AKIAFAKE" + s.chars(UPPER_DIGITS, 12), "AWS_ACCESS_KEY_ID={value}"),
        ("aws-secret-access-key", "FaKe" + s.chars(B64, 36), "AWS_SECRET_ACCESS_KEY={value}"),
        ("github-pat", "ghp_FAKE" + s.chars(ALNUM, 32), "GITHUB_TOKEN={value}"),
        ("github-oauth", "gho_FAKE" + s.chars(ALNUM, 32), "GH_OAUTH_TOKEN={value}"),
        ("github-app-token", "ghs_FAKE" + s.chars(ALNUM, 32), "GH_APP_INSTALLATION_TOKEN={value}"),
        ("github-refresh-token", "ghr_FAKE" + s.chars(ALNUM, 32), "GH_REFRESH_TOKEN={value}"),
        (
            "github-fine-grained-pat",
            "github_pat_FAKE" + s.chars(ALNUM, 18) + "_" + s.chars(ALNUM, 59),
            "GH_PAT={value}",
        ),
        ("gitlab-pat", "glpat-FAKE" + s.chars(URLSAFE, 16), "GITLAB_TOKEN={value}"),
        ("gitlab-ptt", "glptt-" + s.chars(HEX, 40), "GITLAB_TRIGGER_TOKEN={value}"),
        ("gitlab-rrt", "GR1348941FAKE" + s.chars(URLSAFE, 16), "RUNNER_REGISTRATION_TOKEN={value}"),
        ("gitlab-deploy-token", "gldt-FAKE" + s.chars(URLSAFE, 16), "GITLAB_DEPLOY_TOKEN={value}"),
        ("gitlab-runner-authentication-token", "glrt-FAKE" + s.chars(URLSAFE, 16), "RUNNER_TOKEN={value}"),
        ("gitlab-cicd-job-token", "glcbt-64_FAKE" + s.chars(URLSAFE, 16), "UPSTREAM_JOB_TOKEN={value}"),
        (
            "slack-bot-token",
            f"xoxb-{s.chars(DIGITS, 11)}-{s.chars(DIGITS, 13)}-FAKE{s.chars(ALNUM, 20)}",
            "SLACK_BOT_TOKEN={value}",
        ),
        (
            "slack-user-token",
            f"xoxp-{s.chars(DIGITS, 10)}-{s.chars(DIGITS, 11)}-{s.chars(DIGITS, 12)}"
            f"-FAKE{s.chars(ALNUM, 28)}",
            "SLACK_USER_TOKEN={value}",
        ),
        ("slack-legacy-workspace-token", "xoxa-2-FAKE" + s.chars(ALNUM, 36), "SLACK_WORKSPACE_TOKEN={value}"),
        (
            "slack-app-token",
            f"xapp-1-A{s.chars(UPPER_DIGITS, 10)}-{s.chars(DIGITS, 13)}-{s.chars(HEX, 64)}",
            "SLACK_APP_TOKEN={value}",
        ),
        (
            "slack-webhook-url",
            f"T{s.chars(UPPER_DIGITS, 10)}/B{s.chars(UPPER_DIGITS, 10)}/FAKE{s.chars(ALNUM, 20)}",
            "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{value}",
        ),
        ("stripe-access-token", "sk_live_FAKE" + s.chars(ALNUM, 28), "STRIPE_SECRET_KEY={value}"),
        ("stripe-test-key", "sk_test_FAKE" + s.chars(ALNUM, 28), "STRIPE_TEST_SECRET_KEY={value}"),
        ("gcp-api-key", "AIzaFAKE" + s.chars(URLSAFE, 31), "GOOGLE_MAPS_API_KEY={value}"),
        ("npm-access-token", "npm_FAKE" + s.chars(ALNUM, 32), "NPM_TOKEN={value}"),
        ("pypi-upload-token", "pypi-AgEIcHlwaS5vcmc" + s.chars(URLSAFE, 64), "TWINE_PASSWORD={value}"),
        ("docker-hub-pat", "dckr_pat_FAKE" + s.chars(URLSAFE, 23), "DOCKERHUB_TOKEN={value}"),
        ("twilio-api-key", "SK" + s.chars(HEX, 32), "TWILIO_API_KEY={value}"),
        ("twilio-auth-token", s.chars(HEX, 32), "TWILIO_AUTH_TOKEN={value}"),
        (
            "sendgrid-api-token",
            f"SG.{s.chars(URLSAFE, 22)}.{s.chars(URLSAFE, 43)}",
            "SENDGRID_API_KEY={value}",
        ),
        (
            "azure-storage-account-key",
            s.chars(B64, 86) + "==",
            "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=fakeacct;"
            "AccountKey={value};EndpointSuffix=core.windows.net",
        ),
        ("jwt", f"{jwt_header}.{jwt_payload}.{s.chars(URLSAFE, 43)}", "SERVICE_JWT={value}"),
        (
            "private-key",
            "\n".join(pem_lines),
            "-----BEGIN RSA PRIVATE KEY-----\n{value}\n-----END RSA PRIVATE KEY-----",
        ),
        ("private-key-base64", base64.b64encode(fake_pem.encode()).decode(), "KUBE_CLIENT_KEY_DATA={value}"),
        (
            "basic-auth-url",
            "FAKE" + s.chars(ALNUM, 16),
            "DATABASE_URL=postgres://app:{value}@db.internal:5432/app",
        ),
        (
            "openai-api-key",
            f"sk-proj-FAKE{s.chars(URLSAFE, 36)}T3BlbkFJ{s.chars(URLSAFE, 40)}",
            "OPENAI_API_KEY={value}",
        ),
        ("anthropic-api-key", "sk-ant-api03-FAKE" + s.chars(URLSAFE, 89) + "AA", "ANTHROPIC_API_KEY={value}"),
        ("digitalocean-token", "dop_v1_" + s.chars(HEX, 64), "DIGITALOCEAN_ACCESS_TOKEN={value}"),
        ("vault-token", "hvs.FAKE" + s.chars(URLSAFE, 96), "VAULT_TOKEN={value}"),
        ("huggingface-access-token", "hf_FAKE" + s.chars(ALNUM, 30), "HF_TOKEN={value}"),
        ("docker-config-auth", docker_auth, '{"auths": {"registry.internal": {"auth": "{value}"}}}'),
        ("secret-assignment", "FAKE" + s.chars(ALNUM, 16), "POSTGRES_PASSWORD={value}"),
        ("secret-name-value", "FAKE" + s.chars(ALNUM, 16), "- name: DB_PASSWORD\n  value: {value}"),
    ]


PLANTED: list[tuple[str, str, str]] = make_planted()

_ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$")
_NAME_VALUE = re.compile(r"^- name: (\w+)\n  value: (.*)$")


def fill(template: str, value: str) -> str:
    return template.replace(MARK, value)


def fragments(value: str) -> list[str]:
    """What must never appear in an output: the value, and each line of a multi-line value."""
    parts = [value]
    if "\n" in value:
        parts.extend(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)
    return parts


def _pair(template: str, value: str) -> tuple[str, str] | None:
    """The (KEY, literal) a template assigns, when it is a plain assignment."""
    text = fill(template, value)
    match = _ASSIGNMENT.match(text) or _NAME_VALUE.match(text)
    return (match.group(1), match.group(2)) if match else None


def render_env(planted: list[tuple[str, str, str]]) -> str:
    """A `.env` file as docker compose reads it."""
    lines = ["# Local settings (fake values for tests)", "APP_ENV=development"]
    for _, value, template in planted:
        pair = _pair(template, value)
        if pair is not None:
            lines.append(f"{pair[0]}={pair[1]}")
        elif template.startswith("{"):
            lines.append(f"DOCKER_AUTH_CONFIG='{fill(template, value)}'")
        else:
            lines.append(f'TLS_PRIVATE_KEY="{fill(template, value)}"')
    lines.append("LOG_LEVEL=debug")
    return "\n".join(lines) + "\n"


def render_shell(planted: list[tuple[str, str, str]]) -> str:
    """A deploy script exporting every value."""
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", ""]
    for _, value, template in planted:
        pair = _pair(template, value)
        if pair is not None:
            lines.append(f"export {pair[0]}='{pair[1]}'")
        elif template.startswith("{"):
            lines.append(f"echo '{fill(template, value)}' > \"$HOME/.docker/config.json\"")
        else:
            lines += ["cat > /tmp/deploy.pem <<'EOF'", fill(template, value), "EOF"]
    lines += ["", 'docker compose up -d "$@"']
    return "\n".join(lines) + "\n"


def render_compose(planted: list[tuple[str, str, str]]) -> str:
    """A compose file with every value in a service's environment."""
    lines = ["services:", "  app:", "    image: registry.internal/app:1.4.2", "    environment:"]
    for _, value, template in planted:
        pair = _pair(template, value)
        if pair is not None:
            lines.append(f"      {pair[0]}: '{pair[1]}'")
        elif template.startswith("{"):
            lines.append(f"      DOCKER_AUTH_CONFIG: '{fill(template, value)}'")
        else:
            lines.append("      TLS_PRIVATE_KEY: |")
            lines += [f"        {line}" for line in fill(template, value).splitlines()]
    lines += ["    ports:", "      - '8080:8080'"]
    return "\n".join(lines) + "\n"


def render_text(planted: list[tuple[str, str, str]]) -> str:
    """Free text (a runbook) quoting every template as written."""
    lines = ["# Runbook", "", "Values below were pasted from the old wiki.", ""]
    for detector_id, value, template in planted:
        lines += [f"## {detector_id}", "", fill(template, value), ""]
    return "\n".join(lines)


def planted_files(planted: list[tuple[str, str, str]] | None = None) -> dict[str, str]:
    """A small repository (path -> text) holding every planted secret in four kinds of file."""
    planted = PLANTED if planted is None else planted
    return {
        ".env": render_env(planted),
        "deploy/deploy.sh": render_shell(planted),
        "docker-compose.yml": render_compose(planted),
        "docs/runbook.md": render_text(planted),
    }
