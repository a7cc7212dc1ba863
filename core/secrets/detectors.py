"""The secret detectors: one object per credential format, each mapped to a DT-S rule.

Contract: `DETECTORS` lists every detector; `Detector.find(ctx)` yields `Candidate`s — the offsets of
the secret VALUE (what masking replaces) and of the region a finding should span (the value itself,
or a whole PEM block). Detectors never see each other: `core.secrets.scanner` resolves overlaps by
`priority` (a specific token format beats "a URL with a password" beats "a secret-named variable").

Speed: a detector first checks its literal keywords against the lower-cased text (`in` on a str is a
fast C search) and runs its regex only when one is present, so a file without any key-like text costs
one `lower()` and a few dozen substring searches.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from core.models import FileKind
from core.secrets.keywords import (
    KNOWN_EXAMPLE_VALUES,
    is_placeholder,
    is_secret_key,
    looks_like_secret_assignment,
    shannon_entropy,
)


class Candidate(NamedTuple):
    """A raw detection: value span, finding span, and the variable name when there is one."""

    start: int
    end: int
    region_start: int
    region_end: int
    key: str = ""


@dataclass(frozen=True, slots=True)
class ScanInput:
    """What every detector looks at; `lowered` is computed once per file."""

    text: str
    lowered: str
    kind: FileKind | None
    #: mask more eagerly (unquoted secret-named values in any file), as the LLM agent needs.
    thorough: bool = False
    #: keyword -> spans of the lines holding it; several detectors ask for the same keywords.
    line_cache: dict[str, tuple[tuple[int, int], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )


Validator = Callable[[str, "re.Match[str]"], bool]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def lower_same_length(text: str) -> str:
    """Lower-case `text` keeping every offset valid (a few Unicode letters grow under `lower()`)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def keyword_lines(scan: ScanInput, keywords: tuple[str, ...]) -> list[tuple[int, int]]:
    """The (start, end) offsets of every line holding one of `keywords`, in order, each once."""
    text, lowered, cache = scan.text, scan.lowered, scan.line_cache
    spans: set[tuple[int, int]] = set()
    for keyword in keywords:
        known = cache.get(keyword)
        if known is None:
            found: list[tuple[int, int]] = []
            at = lowered.find(keyword)
            while at >= 0:
                start = text.rfind("\n", 0, at) + 1
                end = text.find("\n", at)
                end = len(text) if end < 0 else end
                found.append((start, end))
                at = lowered.find(keyword, end)
            known = cache[keyword] = tuple(found)
        spans.update(known)
    return sorted(spans)

_PLACEHOLDER_RUN = re.compile(r"[xX]{8,}|\*{4,}|\.{3}|<|>|\{|\}|(?i:example|your|placeholder|redacted)")
_SEQUENTIAL = ("abcdefghij", "0123456789", "1234567890", "qwertyuiop")


def plausible_token(value: str, body_from: int = 0, min_entropy: float = 3.0) -> bool:
    """A format-valid token that is not a documented example, an x/0/* filler, or a keyboard walk."""
    if value in KNOWN_EXAMPLE_VALUES:
        return False
    body = value[body_from:]
    if len(set(body.replace("-", "").replace("_", ""))) <= 2:
        return False
    if _PLACEHOLDER_RUN.search(body):
        return False
    lowered = body.lower()
    if any(run in lowered for run in _SEQUENTIAL):
        return False
    return shannon_entropy(body) >= min_entropy


@dataclass(frozen=True, slots=True, kw_only=True)
class Detector:
    """A detector's identity: a gitleaks-style id, its DT-S rule, and the peer tools' names for it."""

    id: str
    rule_id: str
    title: str
    aliases: tuple[str, ...] = ()
    #: higher wins when two detections overlap.
    priority: int = 2

    def find(self, scan: ScanInput) -> Iterator[Candidate]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class RegexDetector(Detector):
    """A format with a recognisable shape; `group` captures the value.

    A detector with `prefixes` (the case-sensitive literals its pattern starts with) is driven by the
    shared locators in `find_candidates`; one without runs its pattern on the lines holding one of its
    lower-case `keywords`.
    """

    pattern: re.Pattern[str]
    prefixes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    group: int | str = 1
    body_from: int = 0
    min_entropy: float = 3.0
    validate: Validator | None = field(default=None, compare=False)
    #: the file must also match this somewhere (e.g. "twilio" near a bare 32-hex token).
    context: re.Pattern[str] | None = None
    whole_match_region: bool = False
    #: the value must not continue a word on its left.
    boundary: bool = True

    def candidate(self, scan: ScanInput, match: re.Match[str]) -> Candidate | None:
        """The detection `match` stands for, or None when it is a placeholder or fails validation."""
        start, end = match.span(self.group)
        if start < 0 or (self.boundary and start > 0 and scan.text[start - 1] in _WORD):
            return None
        value = scan.text[start:end]
        if not plausible_token(value, self.body_from, self.min_entropy):
            return None
        if self.validate is not None and not self.validate(value, match):
            return None
        if self.whole_match_region:
            return Candidate(start, end, match.start(), match.end())
        return Candidate(start, end, start, end)

    def _matches(self, scan: ScanInput) -> Iterator[re.Match[str]]:
        if self.prefixes:
            yield from self.pattern.finditer(scan.text)
            return
        for start, end in keyword_lines(scan, self.keywords):
            yield from self.pattern.finditer(scan.text, start, end)

    def find(self, scan: ScanInput) -> Iterator[Candidate]:
        """This detector alone (`find_candidates` runs every detector in far fewer passes)."""
        context_ok: bool | None = None
        for match in self._matches(scan):
            found = self.candidate(scan, match)
            if found is None:
                continue
            if self.context is not None and context_ok is None:  # a whole-text search: only when needed
                context_ok = self.context.search(scan.text) is not None
            if context_ok is not False:
                yield found


# --- keyword assignments -------------------------------------------------------------------------

_KEY_HINT = re.compile(r"pass|pwd|secret|token|key|credential|auth|dsn|conn", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    r"""(?<![\w.${])(?P<key>[A-Za-z_][\w.-]{0,80}?)["']?(?P<lsp>[ \t]*)(?P<sep>:=|=>|=|:)(?P<rsp>[ \t]*)"""
    r"""(?:"(?P<dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"|'(?P<sq>[^'\n]*)'"""
    r"""|(?P<bare>[^\s'"`#,;(){}\[\]<>$\\|&=]+=*)(?=[\s,;}\]]|$))""",
    re.MULTILINE,
)
_K8S_ENV = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?name:[ \t]*["']?(?P<key>[A-Za-z_][\w.-]*)["']?[ \t]*\r?\n"""
    r"""[ \t]*value:[ \t]*(?:"(?P<dq>[^"\\\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s'"#|>&*!][^\s#]*))"""
    r"""[ \t]*(?:#.*)?$""",
    re.MULTILINE,
)
_NOT_A_SECRET_VALUE = re.compile(
    r"^(?:/|\./|\.\./|~/|https?://|file:|!|@\w+@$|%\(|#\{|\$|secrets\.|vars\.|env\.|"
    r"(?:true|false|yes|no|on|off|null|none)$)",
    re.IGNORECASE,
)
#: File kinds where an unquoted `key: value` / `KEY=value` is a literal, not code.
_CONFIG_KINDS = frozenset(FileKind) - {FileKind.OTHER}


def _values(match: re.Match[str]) -> tuple[str, int, int, bool] | None:
    for name, bare in (("dq", False), ("sq", False), ("bare", True)):
        start, end = match.span(name)
        if start >= 0:
            return match.string[start:end], start, end, bare
    return None


def secret_assignment_value(key: str, value: str) -> bool:
    """The shared keyword test plus what a generic text scan needs: no prose, paths or references."""
    if not value or any(c.isspace() for c in value) or _NOT_A_SECRET_VALUE.search(value):
        return False
    if value.lower() == key.lower() or value.strip("'\"") in KNOWN_EXAMPLE_VALUES:
        return False
    return looks_like_secret_assignment(key, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordDetector(Detector):
    """`KEY=VALUE`, `key: value`, `"key": "value"` where the name says secret and the value is real."""

    #: every secret-sounding key name (`core.secrets.keywords`) contains one of these.
    keywords: tuple[str, ...] = ("pass", "pwd", "secret", "token", "key", "credential", "dsn", "conn")

    def _assignments(self, scan: ScanInput) -> Iterator[re.Match[str]]:
        for start, end in keyword_lines(scan, self.keywords):
            # Most keyword lines are code or prose; a line without an assignment sign is skipped cheaply.
            line = scan.text[start:end]
            if "=" in line or ":" in line:
                yield from _ASSIGNMENT.finditer(scan.text, start, end)

    def find(self, scan: ScanInput) -> Iterator[Candidate]:
        if not any(k in scan.lowered for k in self.keywords):
            return
        strict = not scan.thorough and scan.kind is not None and scan.kind not in _CONFIG_KINDS
        for match in self._assignments(scan):
            key = match["key"]
            if _KEY_HINT.search(key) is None or not is_secret_key(key):
                continue
            found = _values(match)
            if found is None:
                continue
            value, start, end, bare = found
            # In source code or prose an unquoted word after `password:` is usually not a literal.
            if strict and bare and (match["sep"] != "=" or match["lsp"] or match["rsp"]):
                continue
            if secret_assignment_value(key, value):
                yield Candidate(start, end, start, end, key)


@dataclass(frozen=True, slots=True, kw_only=True)
class NameValueDetector(Detector):
    """Kubernetes-style `- name: DB_PASSWORD` / `value: ...` pairs on consecutive lines."""

    def _pairs(self, scan: ScanInput) -> Iterator[re.Match[str]]:
        text = scan.text
        for start, end in keyword_lines(scan, ("value:",)):
            if start < 2:
                continue
            previous = text.rfind("\n", 0, start - 1) + 1
            match = _K8S_ENV.match(text, previous, end)
            if match is not None:
                yield match

    def find(self, scan: ScanInput) -> Iterator[Candidate]:
        if "value:" not in scan.lowered or "name:" not in scan.lowered:
            return
        for match in self._pairs(scan):
            key = match["key"]
            if not is_secret_key(key):
                continue
            found = _values(match)
            if found is None:
                continue
            value, start, end, _ = found
            if secret_assignment_value(key, value):
                yield Candidate(start, end, start, end, key)


# --- validators ----------------------------------------------------------------------------------


def _b64decode(value: str, urlsafe: bool = False) -> bytes | None:
    padded = value + "=" * (-len(value) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _jwt_header_ok(value: str, match: re.Match[str]) -> bool:
    raw = _b64decode(value.split(".", 1)[0], urlsafe=True)
    if raw is None:
        return False
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header


def _not_aws_example(value: str, match: re.Match[str]) -> bool:
    return not value.endswith(("EXAMPLE", "EXAMPLEKEY"))


_PEM_TRIM = re.compile(r"^(?:\s|\\[nr])+|(?:\s|\\[nr])+$")
_BASE64_CHAR = re.compile(r"[A-Za-z0-9+/=]")


def _pem_body_ok(value: str, match: re.Match[str]) -> bool:
    return len(_BASE64_CHAR.findall(value)) >= 64 and "..." not in value


def _base64_private_key(value: str, match: re.Match[str]) -> bool:
    raw = _b64decode(value)
    return raw is not None and b"PRIVATE KEY" in raw


def _docker_auth_ok(value: str, match: re.Match[str]) -> bool:
    raw = _b64decode(value)
    if raw is None:
        return False
    try:
        user, _, password = raw.decode("utf-8").partition(":")
    except UnicodeDecodeError:
        return False
    return bool(user) and password.isprintable() and not is_placeholder(password)


_EXAMPLE_HOST = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|example|invalid|test)$", re.IGNORECASE)


def _url_password_ok(value: str, match: re.Match[str]) -> bool:
    at = match.start()
    if at == 0 or not match.string[at - 1].isalnum():  # `scheme://` needs a scheme
        return False
    if is_placeholder(value) or value.startswith(("$", "%24")) or value.lower() in ("pass", "pwd", "passwd"):
        return False
    return _EXAMPLE_HOST.search(match["host"]) is None


def _trim_escaped_space(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past whitespace and literal `\n`/`\r` escapes (keys inside JSON strings)."""
    while start < end:
        if text[start].isspace():
            start += 1
        elif text.startswith(("\\n", "\\r"), start, end):
            start += 2
        else:
            break
    while end > start:
        if text[end - 1].isspace():
            end -= 1
        elif end - start >= 2 and text[end - 2:end] in ("\\n", "\\r"):
            end -= 2
        else:
            break
    return start, end


@dataclass(frozen=True, slots=True, kw_only=True)
class _PemDetector(RegexDetector):
    """The value is the key body; the finding spans the whole BEGIN…END block."""

    def candidate(self, scan: ScanInput, match: re.Match[str]) -> Candidate | None:
        start, end = _trim_escaped_space(scan.text, *match.span("body"))
        value = scan.text[start:end]
        if not _pem_body_ok(value, match):
            return None
        return Candidate(start, end, match.start(), match.end())


# --- the catalogue -------------------------------------------------------------------------------

_END = r"(?![A-Za-z0-9_])"
_END_DASH = r"(?![A-Za-z0-9_-])"


def _token(
    detector_id: str, rule_id: str, title: str, pattern: str, prefixes: tuple[str, ...], *,
    aliases: tuple[str, ...] = (), body_from: int = 0, min_entropy: float = 3.0,
    keywords: tuple[str, ...] = (), validate: Validator | None = None, flags: int = 0,
    context: str | None = None, priority: int = 2, boundary: bool = True,
) -> RegexDetector:
    return RegexDetector(
        id=detector_id, rule_id=rule_id, title=title, pattern=re.compile(pattern, flags), prefixes=prefixes,
        keywords=keywords, aliases=aliases, body_from=body_from, min_entropy=min_entropy,
        validate=validate, context=re.compile(context) if context else None, priority=priority,
        boundary=boundary,
    )


_GITHUB = "detect-secrets:GitHubTokenDetector"
_GITLAB = "detect-secrets:GitLabTokenDetector"
_SLACK = "detect-secrets:SlackDetector"
_STRIPE_LIVE = ("sk_live_", "rk_live_", "sk_prod_", "rk_prod_")

DETECTORS: tuple[Detector, ...] = (
    # AWS
    _token("aws-access-token", "DT-S001", "AWS access key ID",
           r"((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])",
           ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), body_from=4, min_entropy=2.5, validate=_not_aws_example,
           aliases=("gitleaks:aws-access-token", "detect-secrets:AWSKeyDetector")),
    _token("aws-secret-access-key", "DT-S002", "AWS secret access key",
           r"(?:aws[_.-]?secret[_.-]?(?:access[_.-]?)?key|secret[_.-]?access[_.-]?key)[\w.-]*[\"']?"
           r"(?:[ \t]*(?:=|:|=>)[ \t]*|[ \t]+)[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
           (), keywords=("secret",), min_entropy=3.5, validate=_not_aws_example, flags=re.IGNORECASE,
           aliases=("detect-secrets:AWSKeyDetector",)),
    # GitHub
    _token("github-pat", "DT-S003", "GitHub personal access token",
           r"(ghp_[A-Za-z0-9]{36})" + _END, ("ghp_",), body_from=4,
           aliases=("gitleaks:github-pat", _GITHUB)),
    _token("github-oauth", "DT-S003", "GitHub OAuth access token",
           r"(gho_[A-Za-z0-9]{36})" + _END, ("gho_",), body_from=4,
           aliases=("gitleaks:github-oauth", _GITHUB)),
    _token("github-app-token", "DT-S003", "GitHub App token",
           r"(gh[us]_[A-Za-z0-9]{36})" + _END, ("ghu_", "ghs_"), body_from=4,
           aliases=("gitleaks:github-app-token", _GITHUB)),
    _token("github-refresh-token", "DT-S003", "GitHub refresh token",
           r"(ghr_[A-Za-z0-9]{36,76})" + _END, ("ghr_",), body_from=4,
           aliases=("gitleaks:github-refresh-token", _GITHUB)),
    _token("github-fine-grained-pat", "DT-S003", "GitHub fine-grained personal access token",
           r"(github_pat_[A-Za-z0-9_]{82})" + _END, ("github_pat_",), body_from=11,
           aliases=("gitleaks:github-fine-grained-pat", _GITHUB)),
    # GitLab
    _token("gitlab-pat", "DT-S004", "GitLab personal access token",
           r"(glpat-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)" + _END_DASH, ("glpat-",), body_from=6,
           aliases=("gitleaks:gitlab-pat", "gitleaks:gitlab-pat-routable", _GITLAB)),
    _token("gitlab-ptt", "DT-S004", "GitLab pipeline trigger token",
           r"(glptt-[A-Za-z0-9_-]{20,50})" + _END_DASH, ("glptt-",), body_from=6,
           aliases=("gitleaks:gitlab-ptt", _GITLAB)),
    _token("gitlab-rrt", "DT-S004", "GitLab runner registration token",
           r"(GR1348941[A-Za-z0-9_-]{20})" + _END_DASH, ("GR1348941",), body_from=9,
           aliases=("gitleaks:gitlab-rrt",)),
    _token("gitlab-deploy-token", "DT-S004", "GitLab deploy token",
           r"(gldt-[A-Za-z0-9_-]{20,50})" + _END_DASH, ("gldt-",), body_from=5,
           aliases=("gitleaks:gitlab-deploy-token", _GITLAB)),
    _token("gitlab-runner-authentication-token", "DT-S004", "GitLab runner authentication token",
           r"(glrt-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?)" + _END_DASH, ("glrt-",), body_from=5,
           aliases=("gitleaks:gitlab-runner-authentication-token",
                    "gitleaks:gitlab-runner-authentication-token-routable", _GITLAB)),
    _token("gitlab-cicd-job-token", "DT-S004", "GitLab CI/CD job token",
           r"(glcbt-[A-Za-z0-9]{1,5}_[A-Za-z0-9_-]{20})" + _END_DASH, ("glcbt-",), body_from=6,
           aliases=("gitleaks:gitlab-cicd-job-token", _GITLAB)),
    # Slack
    _token("slack-bot-token", "DT-S005", "Slack bot token",
           r"(xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,34})" + _END, ("xoxb-",),
           body_from=5, min_entropy=2.5,
           aliases=("gitleaks:slack-bot-token", "gitleaks:slack-legacy-bot-token", _SLACK)),
    _token("slack-user-token", "DT-S005", "Slack user token",
           r"(xox[pe](?:-[0-9]{8,14}){3}-[A-Za-z0-9]{28,34})" + _END, ("xoxp-", "xoxe-"),
           body_from=5, min_entropy=2.5, aliases=("gitleaks:slack-user-token", _SLACK)),
    _token("slack-legacy-workspace-token", "DT-S005", "Slack workspace token",
           r"(xox[ar]-(?:[0-9]-)?[A-Za-z0-9]{8,48})(?![A-Za-z0-9])", ("xoxa-", "xoxr-"),
           body_from=5, min_entropy=2.5, aliases=("gitleaks:slack-legacy-workspace-token", _SLACK)),
    _token("slack-app-token", "DT-S005", "Slack app-level token",
           r"(xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{8,16}-[a-f0-9]{32,80})" + _END, ("xapp-",),
           body_from=5, min_entropy=2.5, aliases=("gitleaks:slack-app-token", _SLACK)),
    _token("slack-webhook-url", "DT-S006", "Slack incoming webhook URL",
           r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{40,90})(?![A-Za-z0-9+/_-])",
           ("hooks.slack.com/",), boundary=False, aliases=("gitleaks:slack-webhook-url", _SLACK)),
    # Payments and SaaS APIs
    _token("stripe-access-token", "DT-S007", "Stripe live secret key",
           r"([sr]k_(?:live|prod)_[A-Za-z0-9]{20,99})" + _END, _STRIPE_LIVE, body_from=8,
           aliases=("gitleaks:stripe-access-token", "detect-secrets:StripeDetector")),
    _token("stripe-test-key", "DT-S008", "Stripe test secret key",
           r"([sr]k_test_[A-Za-z0-9]{20,99})" + _END, ("sk_test_", "rk_test_"), body_from=8,
           aliases=("gitleaks:stripe-access-token",)),
    _token("gcp-api-key", "DT-S009", "Google API key",
           r"(AIza[A-Za-z0-9_-]{35})" + _END_DASH, ("AIza",), body_from=4, min_entropy=3.5,
           aliases=("gitleaks:gcp-api-key",)),
    _token("npm-access-token", "DT-S010", "npm access token",
           r"(npm_[A-Za-z0-9]{36})" + _END, ("npm_",), body_from=4,
           aliases=("gitleaks:npm-access-token", "detect-secrets:NpmDetector")),
    _token("pypi-upload-token", "DT-S011", "PyPI upload token",
           r"(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000})" + _END_DASH,
           ("pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"), body_from=24,
           aliases=("gitleaks:pypi-upload-token", "detect-secrets:PypiTokenDetector")),
    _token("docker-hub-pat", "DT-S012", "Docker Hub access token",
           r"(dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,64})" + _END_DASH, ("dckr_pat_", "dckr_oat_"), body_from=9),
    _token("twilio-api-key", "DT-S013", "Twilio API key",
           r"(SK[0-9a-fA-F]{32})(?![A-Za-z0-9])", ("SK",), body_from=2,
           aliases=("gitleaks:twilio-api-key", "detect-secrets:TwilioKeyDetector")),
    _token("twilio-auth-token", "DT-S013", "Twilio auth token",
           r"(?i)auth[_.-]?token[\w.-]*[\"']?[ \t]*(?:=|:|=>)[ \t]*[\"']?([0-9a-f]{32})(?![0-9a-z])",
           (), keywords=("auth",), context=r"(?i:twilio)|(?<![A-Za-z0-9])AC[0-9a-f]{32}(?![A-Za-z0-9])",
           aliases=("detect-secrets:TwilioKeyDetector",)),
    _token("sendgrid-api-token", "DT-S014", "SendGrid API key",
           r"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + _END_DASH, ("SG.",), body_from=3,
           aliases=("gitleaks:sendgrid-api-token", "detect-secrets:SendGridDetector")),
    _token("azure-storage-account-key", "DT-S015", "Azure storage account key",
           r"AccountKey[ \t]*=[ \t]*([A-Za-z0-9+/]{86}==)", ("AccountKey",), min_entropy=4.0, boundary=False,
           aliases=("detect-secrets:AzureStorageKeyDetector",)),
    _token("jwt", "DT-S016", "JSON Web Token",
           r"(eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{0,1000})" + _END_DASH,
           ("eyJ",), validate=_jwt_header_ok, aliases=("gitleaks:jwt", "detect-secrets:JwtTokenDetector")),
    _PemDetector(
        id="private-key", rule_id="DT-S017", title="Private key", boundary=False,
        pattern=re.compile(
            r"-----BEGIN (?P<label>[A-Z0-9]+(?: [A-Z0-9]+)* )?PRIVATE KEY(?: BLOCK)?-----"
            r"(?P<body>[\s\S]{20,65536}?)-----END (?P=label)?PRIVATE KEY(?: BLOCK)?-----"
        ),
        prefixes=("-----BEGIN ",), whole_match_region=True, group="body",
        aliases=("gitleaks:private-key", "detect-secrets:PrivateKeyDetector"),
    ),
    _token("private-key-base64", "DT-S017", "Base64-encoded private key",
           r"(LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,}={0,2})(?![A-Za-z0-9+/=])", ("LS0tLS1CRUdJTi",),
           min_entropy=4.0, validate=_base64_private_key),
    _token("basic-auth-url", "DT-S018", "Password in a URL",
           r"://[^\s:@/?#'\"`<>]{0,128}:([^\s@/?#'\"`<>]{1,256})@(?P<host>\[[0-9A-Fa-f:]+\]|[A-Za-z0-9_.-]+)",
           ("://",), min_entropy=1.5, validate=_url_password_ok, priority=1, boundary=False,
           aliases=("detect-secrets:BasicAuthDetector",)),
    _token("openai-api-key", "DT-S020", "OpenAI API key",
           r"(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,80}T3BlbkFJ[A-Za-z0-9_-]{20,80})" + _END_DASH,
           ("sk-",), body_from=3, aliases=("gitleaks:openai-api-key", "detect-secrets:OpenAIDetector")),
    _token("anthropic-api-key", "DT-S021", "Anthropic API key",
           r"(sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120})" + _END_DASH, ("sk-ant-",), body_from=14),
    _token("digitalocean-token", "DT-S022", "DigitalOcean token",
           r"(do[opr]_v1_[a-f0-9]{64})" + _END, ("dop_v1_", "doo_v1_", "dor_v1_"), body_from=7,
           aliases=("gitleaks:digitalocean-pat", "gitleaks:digitalocean-access-token",
                    "gitleaks:digitalocean-refresh-token")),
    _token("vault-token", "DT-S023", "HashiCorp Vault token",
           r"(hv[sb]\.[A-Za-z0-9_-]{90,300})" + _END_DASH, ("hvs.", "hvb."), body_from=4,
           aliases=("gitleaks:vault-service-token", "gitleaks:vault-batch-token")),
    _token("huggingface-access-token", "DT-S024", "Hugging Face access token",
           r"(hf_[A-Za-z0-9]{34})" + _END, ("hf_",), body_from=3,
           aliases=("gitleaks:huggingface-access-token",)),
    _token("docker-config-auth", "DT-S025", "Registry credentials in a Docker config",
           r"\"auth\"[ \t]*:[ \t]*\"([A-Za-z0-9+/]{8,}={0,2})\"", ('"auth"',), min_entropy=2.5,
           boundary=False, validate=_docker_auth_ok),
    KeywordDetector(id="secret-assignment", rule_id="DT-S019", title="Plaintext secret", priority=0,
                    aliases=("detect-secrets:KeywordDetector", "gitleaks:generic-api-key")),
    NameValueDetector(id="secret-name-value", rule_id="DT-S019", title="Plaintext secret", priority=0,
                      aliases=("detect-secrets:KeywordDetector",)),
)

DETECTORS_BY_ID: dict[str, Detector] = {d.id: d for d in DETECTORS}
if len(DETECTORS_BY_ID) != len(DETECTORS):  # pragma: no cover - a catalogue typo
    raise RuntimeError("duplicate secret detector id")


# --- one pass per leading character --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Locator:
    """Finds every prefix that starts with one character; `re` jumps between occurrences of it."""

    pattern: re.Pattern[str]
    routes: tuple[tuple[str, int], ...]  # (prefix, index into DETECTORS)


def _build_locators() -> tuple[_Locator, ...]:
    by_lead: dict[str, list[tuple[str, int]]] = {}
    for index, detector in enumerate(DETECTORS):
        if isinstance(detector, RegexDetector):
            for prefix in detector.prefixes:
                by_lead.setdefault(prefix[0], []).append((prefix, index))
    locators = []
    for _, routes in sorted(by_lead.items()):
        # `re` factors the common start out of the alternation and searches for it as a literal.
        prefixes = sorted({prefix for prefix, _ in routes}, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(prefix) for prefix in prefixes))
        locators.append(_Locator(pattern, tuple(sorted(routes, key=lambda r: -len(r[0])))))
    return tuple(locators)


_LOCATORS = _build_locators()
_LOCATOR_CALLS = tuple((locator.pattern.finditer, locator.routes) for locator in _LOCATORS)
_UNLOCATED = tuple(
    (index, detector) for index, detector in enumerate(DETECTORS)
    if not (isinstance(detector, RegexDetector) and detector.prefixes)
)


def find_candidates(scan: ScanInput) -> Iterator[tuple[int, Candidate]]:
    """Every detector's raw detections as (index into DETECTORS, candidate), in few passes.

    Prefix detectors share one regex per leading character (a pattern whose alternatives all start
    with one literal lets `re` skip straight between its occurrences — about 1 GB/s, where one
    alternation of all prefixes runs at a few MB/s); the keyword detectors scan keyword lines only.
    """
    text = scan.text
    for finditer, routes in _LOCATOR_CALLS:
        for hit in finditer(text):
            at = hit.start()
            word_before = at > 0 and text[at - 1] in _WORD
            tried: set[int] = set()
            for prefix, index in routes:
                if index in tried or not text.startswith(prefix, at):
                    continue
                tried.add(index)
                detector = DETECTORS[index]
                assert isinstance(detector, RegexDetector)
                if word_before and detector.boundary:
                    continue
                if detector.context is not None and detector.context.search(text) is None:
                    continue
                match = detector.pattern.match(text, at)
                if match is not None:
                    found = detector.candidate(scan, match)
                    if found is not None:
                        yield index, found
    for index, detector in _UNLOCATED:
        for found in detector.find(scan):
            yield index, found
