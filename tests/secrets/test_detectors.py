"""Every detector: found at the exact place in a realistic file, and silent on look-alikes."""

from __future__ import annotations

import pytest

from core.models import FileKind
from core.secrets import DETECTORS, DETECTORS_BY_ID, find_secrets
from tests.secrets.planted import PLANTED, fill, render_compose, render_env, render_shell

PLANTED_BY_ID = {detector_id: (value, template) for detector_id, value, template in PLANTED}


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset`, counted independently of the scanner."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def test_catalogue_has_thirty_plus_detectors_each_planted() -> None:
    assert len(DETECTORS) >= 30
    assert set(DETECTORS_BY_ID) == set(PLANTED_BY_ID)
    for detector in DETECTORS:
        assert detector.rule_id.startswith("DT-S") and len(detector.rule_id) == 7
        assert all(":" in alias for alias in detector.aliases)


@pytest.mark.parametrize(
    "render,path",
    [(render_env, ".env"), (render_shell, "deploy/release.sh"), (render_compose, "docker-compose.yml")],
)
@pytest.mark.parametrize("detector_id", sorted(PLANTED_BY_ID))
def test_detector_finds_planted_value_at_exact_position(detector_id: str, render: object, path: str) -> None:
    value, template = PLANTED_BY_ID[detector_id]
    text = render([(detector_id, value, template)])  # type: ignore[operator]
    # A multi-line value sits indented inside a YAML block scalar.
    shown = value if value in text else value.replace("\n", "\n        ")
    found = find_secrets(text, path)
    assert [m.value for m in found] == [shown], (detector_id, [m.detector_id for m in found])
    match = found[0]
    offset = text.index(shown)
    assert (match.start, match.end) == (offset, offset + len(shown))
    assert (match.line, match.column) == _line_col(text, offset)
    assert (match.end_line, match.end_column) == _line_col(text, offset + len(shown))
    expected_detector = "secret-assignment" if detector_id == "secret-name-value" else detector_id
    assert match.detector_id == expected_detector
    assert match.rule_id == DETECTORS_BY_ID[expected_detector].rule_id


def test_explicit_positions_in_a_dotenv_file() -> None:
    value = PLANTED_BY_ID["github-pat"][0]
    aws = PLANTED_BY_ID["aws-access-token"][0]
    text = f'# api settings\nAPP_ENV=prod\nGITHUB_TOKEN={value}\n  AWS_ACCESS_KEY_ID = "{aws}" # ci\n'
    found = find_secrets(text, ".env")
    assert [(m.detector_id, m.line, m.column, m.end_line, m.end_column) for m in found] == [
        ("github-pat", 3, 14, 3, 54),
        ("aws-access-token", 4, 24, 4, 44),
    ]


def test_pem_block_value_is_body_and_region_spans_the_block() -> None:
    value, template = PLANTED_BY_ID["private-key"]
    text = "# deploy key\n" + fill(template, value) + "\nafter: 1\n"
    (match,) = find_secrets(text, "keys/deploy.pem")
    assert match.value == value
    assert (match.line, match.column) == (3, 1)
    assert (match.region_line, match.region_column) == (2, 1)
    last = len(value.splitlines()) + 3
    assert (match.region_end_line, match.region_end_column) == (
        last,
        len("-----END RSA PRIVATE KEY-----") + 1,
    )


def test_pem_inside_a_json_string_with_escaped_newlines() -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" * 4
    text = (
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + body
        + '\\n-----END PRIVATE KEY-----\\n"}\n'
    )
    (match,) = find_secrets(text, "sa.json")
    assert match.detector_id == "private-key" and match.value == body
    assert match.column == text.index(body) + 1


def test_pem_in_yaml_block_scalar_masks_every_body_line() -> None:
    lines = [f"MIIB{i}Kj9Qh2cW3vN8pLmT5rXs1Zb7Gd4Fa6Hk0Jq" + "Ab9Cd8Ef7Gh6" * 2 for i in range(6)]
    text = (
        "tls:\n  key: |\n    -----BEGIN EC PRIVATE KEY-----\n"
        + "".join(f"    {ln}\n" for ln in lines)
        + "    -----END EC PRIVATE KEY-----\n"
    )
    (match,) = find_secrets(text, "values.yaml")
    assert match.value.startswith(lines[0]) and match.value.endswith(lines[-1])
    assert (match.region_line, match.region_column) == (3, 5)
    assert match.region_end_line == 10


def test_rule_of_each_family() -> None:
    rules = {d.rule_id for d in DETECTORS}
    assert rules == {f"DT-S{n:03d}" for n in range(1, 26)}


NEGATIVES: list[tuple[str, str, str]] = [
    ("aws-access-token", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", ".env"),
    ("aws-access-token", "id: AKIA1234567890ABCDE\n", "x.yaml"),  # 21 chars: wrong length
    ("aws-access-token", "HASH=ZAKIAQ7W3E5R7T9Y1U3I5\n", ".env"),  # inside a longer word
    (
        "aws-secret-access-key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "credentials",
    ),
    ("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\n", ".env"),
    ("github-pat", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", ".env"),
    ("github-pat", "GITHUB_TOKEN=ghp_000000000000000000000000000000000000\n", ".env"),
    ("github-pat", "token: ghp_Q3kF9vJm2LpR8sT1wX4zB6nC0dG5hK7\n", "ci.yml"),  # 35 chars: too short
    ("github-oauth", "see gho_<your-token-here> for details\n", "README.md"),
    ("github-app-token", "GH=ghs_abcdefghijklmnopqrstuvwxyz0123456789\n", ".env"),  # keyboard walk
    ("github-refresh-token", "ghr_short\n", "notes.txt"),
    ("github-fine-grained-pat", "github_pat_" + "x" * 82 + "\n", "notes.txt"),
    ("gitlab-pat", "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx\n", ".env"),
    ("gitlab-ptt", "glptt-0000000000000000000000000000000000000000\n", "notes.txt"),
    ("gitlab-rrt", "--registration-token GR1348941<token>\n", "register.sh"),
    ("gitlab-deploy-token", "gldt-abc\n", "notes.txt"),
    ("gitlab-runner-authentication-token", 'token = "glrt-XXXXXXXXXXXXXXXXXXXX"\n', "config.toml"),
    ("gitlab-cicd-job-token", "glcbt-64_...\n", "notes.txt"),
    ("slack-bot-token", "SLACK_BOT_TOKEN=xoxb-your-bot-token\n", ".env"),
    ("slack-user-token", "xoxp-123-456-789-abc\n", "notes.txt"),
    ("slack-legacy-workspace-token", "xoxa-xxxxxxxxxxxx\n", "notes.txt"),
    ("slack-app-token", "xapp-1-...\n", "notes.txt"),
    (
        "slack-webhook-url",
        "url: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n",
        "alerts.yaml",
    ),
    ("stripe-access-token", "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\n", ".env"),
    ("stripe-test-key", "STRIPE_KEY=sk_test_<your key>\n", ".env"),
    ("gcp-api-key", "key=AIzaSyA-tooShort\n", ".env"),
    ("npm-access-token", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", ".npmrc"),
    ("pypi-upload-token", "password = pypi-AgEIcHlwaS5vcmc\n", ".pypirc"),
    ("docker-hub-pat", "DOCKERHUB_TOKEN=dckr_pat_***\n", ".env"),
    ("twilio-api-key", "digest: sha256:SK0123456789abcdef0123456789abcdef01\n", "x.yaml"),  # too long
    ("twilio-auth-token", "AUTH_TOKEN=9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d\n", ".env"),  # no Twilio context
    ("sendgrid-api-token", "SENDGRID_API_KEY=SG.xxxxx.yyyyy\n", ".env"),
    (
        "azure-storage-account-key",
        "UseDevelopmentStorage=true;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uS"
        "RZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\n",
        "appsettings.txt",
    ),
    (
        "jwt",
        "header: eyJub3QiOiJhIGp3dCBoZWFkZXIifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl\n",
        "x.yaml",
    ),  # header has no "alg"
    ("private-key", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n", "README.md"),
    (
        "private-key",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        "-----END PUBLIC KEY-----\n",
        "pub.pem",
    ),
    (
        "private-key-base64",
        "ca: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJJakFOQmdrcWhraUc5dzBCQVFFRkFBT0NBUThB\n",
        "kubeconfig.yaml",
    ),  # a certificate, not a key
    ("basic-auth-url", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app\n", ".env"),
    ("basic-auth-url", "url: https://user:password@example.com/path\n", "docs.yaml"),
    ("basic-auth-url", "git clone git@github.com:org/repo.git\n", "setup.sh"),
    ("openai-api-key", "OPENAI_API_KEY=sk-...\n", ".env"),
    ("anthropic-api-key", "ANTHROPIC_API_KEY=sk-ant-api03-xxxx\n", ".env"),
    ("digitalocean-token", "dop_v1_" + "0" * 64 + "\n", "notes.txt"),
    ("vault-token", "VAULT_TOKEN=hvs.example\n", ".env"),
    ("huggingface-access-token", "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", ".env"),
    ("docker-config-auth", '{"auths": {"ghcr.io": {"auth": ""}}}\n', "config.json"),
    ("docker-config-auth", '{"auths": {"ghcr.io": {"auth": "bm90LWEtcGFpcg=="}}}\n', "config.json"),  # no ':'
    ("secret-assignment", "POSTGRES_PASSWORD=${PG}\n", ".env"),
    ("secret-assignment", "POSTGRES_PASSWORD=changeme\n", ".env"),
    ("secret-assignment", "PASSWORD_FILE=/run/secrets/db\n", ".env"),
    ("secret-name-value", '- name: DB_PASSWORD\n  value: ""\n', "k8s.yaml"),
]


@pytest.mark.parametrize(
    "detector_id,text,path", NEGATIVES, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVES)]
)
def test_detector_ignores_placeholders_examples_and_wrong_lengths(
    detector_id: str, text: str, path: str
) -> None:
    assert detector_id in DETECTORS_BY_ID
    found = find_secrets(text, path)
    assert detector_id not in {m.detector_id for m in found}, [(m.detector_id, m.line) for m in found]


def test_every_detector_has_a_negative_case() -> None:
    assert {n[0] for n in NEGATIVES} == set(DETECTORS_BY_ID)


def test_token_inside_url_prefers_the_specific_detector() -> None:
    value = PLANTED_BY_ID["github-pat"][0]
    text = f"git clone https://x-access-token:{value}@github.com/org/repo.git\n"
    (match,) = find_secrets(text, "clone.sh")
    assert match.detector_id == "github-pat"
    assert match.column == text.index(value) + 1


def test_keyword_and_token_on_one_line_report_the_token_once() -> None:
    value = PLANTED_BY_ID["stripe-access-token"][0]
    (match,) = find_secrets(f"STRIPE_SECRET_KEY={value}\n", ".env")
    assert match.detector_id == "stripe-access-token"


def test_twilio_auth_token_needs_twilio_context_or_account_sid() -> None:
    token = PLANTED_BY_ID["twilio-auth-token"][0]
    sid = "AC" + "3f9a" * 8
    with_sid = f"ACCOUNT_SID={sid}\nAUTH_TOKEN={token}\n"
    assert [m.detector_id for m in find_secrets(with_sid, ".env")] == ["twilio-auth-token"]


def test_empty_binaryish_and_huge_inputs_do_not_crash() -> None:
    assert find_secrets("") == []
    assert find_secrets("\x00\ufffd\u0130" * 100, "blob.bin") == []
    value = PLANTED_BY_ID["npm-access-token"][0]
    # A character whose lower() is two characters must not shift offsets.
    text = "İstanbul " * 50 + f"NPM_TOKEN={value}\n"
    (match,) = find_secrets(text, "notes.txt", FileKind.OTHER)
    assert text[match.start : match.end] == value
