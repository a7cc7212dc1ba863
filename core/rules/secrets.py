"""DT-S001…DT-S025: secrets committed in any text file, one rule per credential family.

Every rule reads the same per-file detection (`core.secrets.find_secrets`, computed once per file
through a `FileCache`) and keeps the matches of its
own rule ID. Messages carry `core.redact.redact(value)`, never the value; the fingerprint anchor is the
detector plus a hash of the value, so it survives edits elsewhere on the line. `fix_data` gives a
fixer the value's range and, for keyword assignments, the variable name.

The keyword rule DT-S019 covers .env files, shell scripts, generic YAML, GitHub Actions and any other
text; Dockerfile, compose, Kubernetes and GitLab CI have their own kind-aware rules for named values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.redact import redact, secret_hash
from core.rules.base import ALL_KINDS, FileCache, Hit, ScanContext, rule
from core.secrets import DETECTORS, SecretMatch, find_secrets

_ROTATE = "Revoke and rotate it now — removing it from the file does not remove it from git history — "


@dataclass(frozen=True, slots=True)
class _Family:
    rule_id: str
    title: str
    severity: Severity
    help: str
    kinds: frozenset[FileKind] = ALL_KINDS


_KEYWORD_KINDS = frozenset(
    {FileKind.ENV, FileKind.SHELL, FileKind.YAML, FileKind.OTHER, FileKind.GHA_WORKFLOW, FileKind.GHA_ACTION}
)

FAMILIES: tuple[_Family, ...] = (
    _Family("DT-S001", "AWS access key ID committed", Severity.CRITICAL, f"""
An AWS access key ID (AKIA…/ASIA…) is in the file. Together with its secret key it signs API calls as
the IAM user or role it belongs to, and leaked keys are found by scanners within minutes. {_ROTATE}
then load credentials at run time (instance or task roles, OIDC in CI, or a secrets manager).
"""),
    _Family("DT-S002", "AWS secret access key committed", Severity.CRITICAL, f"""
A 40-character AWS secret access key is assigned next to an AWS key name. It is the half of the key
pair that signs requests, so anyone who reads the file can act as that identity. {_ROTATE}and give
workloads temporary credentials through roles or OIDC instead of static keys.
"""),
    _Family("DT-S003", "GitHub token committed", Severity.CRITICAL, f"""
A GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ or github_pat_) is in the file. It grants the repository
and organisation access of the account or app that issued it. {_ROTATE}and in Actions use the
built-in GITHUB_TOKEN or a repository secret (`${{{{ secrets.NAME }}}}`).
"""),
    _Family("DT-S004", "GitLab token committed", Severity.CRITICAL, f"""
A GitLab token (personal, deploy, pipeline trigger, runner or CI job token) is in the file. Depending on
its type it can read or push code, trigger pipelines or register runners that receive your jobs'
secrets. {_ROTATE}and store it as a masked, protected CI/CD variable.
"""),
    _Family("DT-S005", "Slack token committed", Severity.HIGH, f"""
A Slack bot, user, app or workspace token is in the file; it can read channels and post as the bot or
user. {_ROTATE}and inject it at run time from your secret store.
"""),
    _Family("DT-S006", "Slack webhook URL committed", Severity.HIGH, """
A Slack incoming-webhook URL is in the file. Anyone holding it can post messages into the channel, which
is a ready-made phishing channel inside your workspace. Regenerate the webhook in Slack and pass the URL
in as a secret instead of committing it.
"""),
    _Family("DT-S007", "Stripe live key committed", Severity.CRITICAL, f"""
A Stripe live secret or restricted key (sk_live_/rk_live_) is in the file. It can create charges,
refunds and payouts on the real account. {_ROTATE}in the Stripe dashboard and load it from a secret
store.
"""),
    _Family("DT-S008", "Stripe test key committed", Severity.LOW, """
A Stripe test-mode key (sk_test_/rk_test_) is in the file. It cannot move real money, but it exposes
your test data and account configuration and trains people to commit keys. Roll it in the dashboard
and read it from the environment.
"""),
    _Family("DT-S009", "Google API key committed", Severity.HIGH, f"""
A Google API key (AIza…) is in the file. Unrestricted keys can be used to run up charges on the
project's enabled APIs. {_ROTATE}and restrict the new key by API and by referrer or IP.
"""),
    _Family("DT-S010", "npm token committed", Severity.CRITICAL, f"""
An npm access token is in the file; with publish rights it lets anyone push a malicious version of your
packages. {_ROTATE}and provide it to CI as a secret (`NPM_TOKEN`) read by .npmrc at run time.
"""),
    _Family("DT-S011", "PyPI token committed", Severity.CRITICAL, f"""
A PyPI upload token is in the file; it can publish releases of your packages. {_ROTATE}and prefer
PyPI trusted publishing from CI, which needs no stored token.
"""),
    _Family("DT-S012", "Docker Hub token committed", Severity.CRITICAL, f"""
A Docker Hub personal or organisation access token (dckr_pat_/dckr_oat_) is in the file. With write
scope it can replace images your deployments pull. {_ROTATE}and pass it to `docker login
--password-stdin` from a CI secret.
"""),
    _Family("DT-S013", "Twilio credential committed", Severity.HIGH, f"""
A Twilio API key (SK…) or account auth token is in the file; it can send messages and place calls
billed to your account. {_ROTATE}in the Twilio console and load it from the environment.
"""),
    _Family("DT-S014", "SendGrid API key committed", Severity.HIGH, f"""
A SendGrid API key (SG.…) is in the file; it can send e-mail as your verified domains, which makes
convincing phishing. {_ROTATE}and read it from a secret store.
"""),
    _Family("DT-S015", "Azure storage account key committed", Severity.CRITICAL, f"""
An Azure storage account key (AccountKey=…) is in the file. It grants full control of every container,
queue and table in the account. {_ROTATE}and use managed identities or short-lived SAS tokens.
"""),
    _Family("DT-S016", "JSON Web Token committed", Severity.HIGH, """
A signed JSON Web Token is in the file. Until it expires it authenticates whoever presents it, and
long-lived service tokens often never expire. Revoke it (or rotate the signing key) and have the
process fetch tokens at run time.
"""),
    _Family("DT-S017", "Private key committed", Severity.CRITICAL, """
A private key (PEM/OpenSSH block, or one base64-encoded as in kubeconfig `client-key-data`) is in the
file. It lets anyone impersonate the server, user or signer it belongs to. Replace the key pair, revoke
any certificate issued for it, and mount keys at run time from a secret store.
"""),
    _Family("DT-S018", "Password in a URL", Severity.HIGH, """
A URL carries a literal password (`scheme://user:password@host`). URLs end up in logs, error messages
and process listings, and the file itself is readable by everyone with repository access. Change the
password and build the URL from a variable (`user:${DB_PASSWORD}@host`) or use a credentials file.
"""),
    _Family("DT-S019", "Plaintext secret in a secret-named variable", Severity.MEDIUM, """
A variable whose name says it holds a secret (PASSWORD, TOKEN, API_KEY, …) is set to a literal value
that is not a placeholder or a reference. Anyone with read access to the repository has it. Move the
value to a secret store or an untracked .env file and reference it (`${DB_PASSWORD}`).
""", _KEYWORD_KINDS),
    _Family("DT-S020", "OpenAI API key committed", Severity.HIGH, f"""
An OpenAI API key is in the file; it can spend your organisation's credits and read its files.
{_ROTATE}and load it from the environment.
"""),
    _Family("DT-S021", "Anthropic API key committed", Severity.HIGH, f"""
An Anthropic API key (sk-ant-…) is in the file; it can spend your organisation's credits.
{_ROTATE}in the Anthropic console and set ANTHROPIC_API_KEY from a secret store.
"""),
    _Family("DT-S022", "DigitalOcean token committed", Severity.CRITICAL, f"""
A DigitalOcean token (dop_v1_/doo_v1_/dor_v1_) is in the file; it can create and destroy droplets,
databases and DNS records. {_ROTATE}and pass it to CI as a secret.
"""),
    _Family("DT-S023", "HashiCorp Vault token committed", Severity.HIGH, f"""
A Vault service or batch token (hvs./hvb.) is in the file; it reads every secret its policies allow.
{_ROTATE}and let workloads log in with an auth method (Kubernetes, AppRole, OIDC).
"""),
    _Family("DT-S024", "Hugging Face token committed", Severity.HIGH, f"""
A Hugging Face access token (hf_…) is in the file; with write scope it can replace models and datasets
others download. {_ROTATE}and read it from HF_TOKEN at run time.
"""),
    _Family("DT-S025", "Registry credentials in a Docker config", Severity.HIGH, """
A Docker config `auths` entry holds base64-encoded `user:password` — base64 is an encoding, not
encryption. Anyone can decode it and push or pull as that user. Change the password and use a
credential helper (`credsStore`) or log in from CI secrets instead of committing config.json.
"""),
)


def _aliases(rule_id: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for detector in DETECTORS:
        if detector.rule_id == rule_id:
            seen.update(dict.fromkeys(detector.aliases))
    return tuple(seen)


#: The file's secrets, computed once however many DT-S rules ask.
matches_for = FileCache(lambda parsed: tuple(find_secrets(parsed.text, parsed.path, parsed.kind)))


def _hit(match: SecretMatch) -> Hit:
    shown = redact(match.value)
    if match.key:
        message = f"{match.title} in {match.key}: {shown}"
    else:
        message = f"{match.title} {shown}"
    position = Position(
        match.region_line, match.region_column, match.region_end_line, match.region_end_column
    )
    fix_data = (
        ("detector", match.detector_id),
        ("value_start", f"{match.line}:{match.column}"),
        ("value_end", f"{match.end_line}:{match.end_column}"),
        *((("key", match.key),) if match.key else ()),
    )
    return Hit(position, message, anchor=f"{match.detector_id}:{secret_hash(match.value)}", fix_data=fix_data)


def _make_check(rule_id: str) -> Callable[[ParsedFile, ScanContext], Iterator[Hit]]:
    def check(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
        for match in matches_for(parsed):
            if match.rule_id == rule_id:
                yield _hit(match)

    check.__name__ = f"check_{rule_id.replace('-', '_').lower()}"
    return check


for _family in FAMILIES:
    rule(
        _family.rule_id,
        _family.title,
        _family.severity,
        _family.kinds,
        help=_family.help,
        aliases=_aliases(_family.rule_id),
        tags=("security", "secrets"),
    )(_make_check(_family.rule_id))
