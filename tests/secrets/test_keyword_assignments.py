"""Keyword + value detection (DT-S019) across .env, shell, YAML, JSON and source files."""

from __future__ import annotations

from core.models import FileKind
from core.scan import scan_text
from core.secrets import find_secrets
from core.secrets.keywords import is_placeholder, is_secret_key, looks_like_secret_assignment

ENV = """\
# Database
POSTGRES_USER=app
POSTGRES_PASSWORD=hunter2hunter2
POSTGRES_DB=app
REDIS_PASSWORD=${REDIS_PASSWORD}
SMTP_PASSWORD=changeme
API_TOKEN="q9X2vLr8Tz1Mw4Kd"   # rotated 2024-05
SESSION_SECRET='b7Vn2Qx9Lm4Rt8Zp'
PASSWORD_FILE=/run/secrets/db_password
DEBUG=true
"""


def _s019(text: str, path: str) -> list[tuple[int, int, int]]:
    return [
        (f.position.line, f.position.column, f.position.end_column or 0)
        for f in scan_text(path, text)
        if f.rule_id == "DT-S019"
    ]


def test_dotenv_flags_literals_and_skips_references_placeholders_and_paths() -> None:
    assert _s019(ENV, ".env") == [(3, 19, 33), (7, 12, 28), (8, 17, 33)]


def test_postgres_password_literal_flagged_reference_not() -> None:
    assert [m.key for m in find_secrets("POSTGRES_PASSWORD=hunter2hunter2\n", ".env")] == [
        "POSTGRES_PASSWORD"
    ]
    assert find_secrets("POSTGRES_PASSWORD=${PG}\n", ".env") == []


def test_shell_exports_and_inline_assignments() -> None:
    script = """\
#!/bin/sh
set -eu
export DB_PASSWORD=s3cr3t-Pa55word
export DB_HOST=db.internal
export API_TOKEN="$(vault kv get -field=token secret/api)"
DEPLOY_TOKEN='k8Jd2Lq0Xw7Nz3Pr' ./deploy.sh --password="$DB_PASSWORD"
mysql --password=Tq7Vm2Xk9Lp4 -h db
"""
    found = [(m.key, m.line, m.column) for m in find_secrets(script, "deploy/run.sh")]
    assert found == [("DB_PASSWORD", 3, 20), ("DEPLOY_TOKEN", 6, 15), ("password", 7, 18)]
    assert _s019(script, "deploy/run.sh") == [(3, 20, 35), (6, 15, 31), (7, 18, 30)]


def test_generic_yaml_and_json_with_camel_case_keys() -> None:
    yaml_text = (
        "database:\n  host: db\n  password: Zq8-Lm3-Vx7\n  passwordFile: /etc/pw\n"
        "client:\n  apiKey: 'K2n9Qx7Lw3'\n"
    )
    assert [(m.key, m.line, m.column) for m in find_secrets(yaml_text, "config/app.yaml")] == [
        ("password", 3, 13),
        ("apiKey", 6, 12),
    ]
    json_text = '{"user": "svc", "clientSecret": "Hq3Lz8Vn2Kx7", "tokenUrl": "https://idp/token"}\n'
    (match,) = find_secrets(json_text, "settings.json")
    assert (match.key, match.column) == ("clientSecret", 34)


def test_source_code_needs_a_literal_not_an_expression() -> None:
    code = """\
password = os.environ["DB_PASSWORD"]
token = get_token()
password: str = field
api_key = "Lq9Vz2Xm7Kw3"
if args.password == self.password:
    pass
"""
    found = find_secrets(code, "app/settings.py")
    assert [(m.key, m.line, m.column) for m in found] == [("api_key", 4, 12)]
    # Masking reads unquoted values everywhere: it is better to hide too much than too little.
    assert [m.key for m in find_secrets("DB_PASSWORD: hunter2hunter2\n", "notes.md", thorough=True)] == [
        "DB_PASSWORD"
    ]


def test_kubernetes_name_value_pairs() -> None:
    manifest = """\
spec:
  containers:
    - name: api
      env:
        - name: DB_PASSWORD
          value: "Kq9-Lm2-Xz7"
        - name: DB_HOST
          value: db
        - name: API_TOKEN
          valueFrom:
            secretKeyRef: {name: api, key: token}
"""
    (match,) = find_secrets(manifest, "k8s/api.yaml", FileKind.K8S)
    assert (match.detector_id, match.key, match.line, match.column) == (
        "secret-name-value",
        "DB_PASSWORD",
        6,
        19,
    )


def test_dt_s019_leaves_kind_aware_files_to_their_own_rules() -> None:
    compose = "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n"
    assert _s019(compose, "docker-compose.yml") == []
    # ...but the value is still found, so masking hides it.
    assert [m.key for m in find_secrets(compose, "docker-compose.yml")] == ["POSTGRES_PASSWORD"]
    workflow = (
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    env:\n      NPM_PASSWORD: Xk2-Lp9-Vq4\n"
        "    steps:\n      - run: echo\n"
    )
    assert _s019(workflow, ".github/workflows/ci.yml") == [(6, 21, 32)]


def test_keyword_heuristics_extended_backwards_compatibly() -> None:
    assert is_secret_key("DB_PASSWORD") and is_secret_key("dbPassword") and is_secret_key("apiKey")
    assert (
        not is_secret_key("secretKeyRef") and not is_secret_key("passwordFile") and not is_secret_key("keyId")
    )
    assert (
        is_placeholder("AKIAIOSFODNN7EXAMPLE")
        and is_placeholder("${X}")
        and not is_placeholder("hunter2hunter2")
    )
    assert not looks_like_secret_assignment("PASSWORD_FILE", "/run/secrets/x")


def test_no_false_positives_from_expansions_and_permissions() -> None:
    compose = (
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in .env}\n"
    )
    assert find_secrets(compose, "docker-compose.yml") == []
    workflow = "permissions:\n  contents: read\n  id-token: write\n"
    assert find_secrets(workflow, ".github/workflows/deploy.yml") == []
