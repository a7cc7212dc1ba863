"""Property: a planted secret of any kind, in any file, never appears in any output we produce.

Hypothesis draws seeds; `make_planted(seed)` turns each into a fresh, format-valid value for every
detector. The files are scanned through the real engine and rendered with the real reports; the
values (and, for a PEM body, each of its lines) must appear nowhere: not in messages, fingerprints,
snippets or fix data, not in the text/JSON/SARIF reports, and not in the masked text — while the
masked text still maps back to the original exactly.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.reports.json_report import render_json
from core.reports.sarif import render_sarif
from core.reports.text import render_text
from core.rules.base import registered_rules
from core.scan import scan_text
from core.secrets import mask_secrets, redact_secrets, redacted_lines
from tests.secrets.planted import fragments as value_fragments
from tests.secrets.planted import make_planted, planted_files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.binary(min_size=1, max_size=16), which=st.sampled_from(list(planted_files())))
def test_no_planted_secret_reaches_any_output(seed: bytes, which: str) -> None:
    planted = make_planted(seed)
    path, text = which, planted_files(planted)[which]
    secrets = [f for _, value, _ in planted for f in value_fragments(value)]

    findings = scan_text(path, text)
    assert {f.rule_id for f in findings if f.rule_id.startswith("DT-S")}, "nothing detected"
    outputs = [
        render_text(findings),
        render_json(findings, registered_rules()),
        render_sarif(findings, registered_rules()),
        json.dumps([(f.message, f.fingerprint, f.snippet, f.extra) for f in findings]),
        "\n".join(redacted_lines(text, path)),
        redact_secrets(text, path),
    ]
    masked = mask_secrets(text, path)
    outputs.append(masked.text)
    for output in outputs:
        for secret in secrets:
            assert secret not in output, f"{secret[:6]}… leaked"
    assert masked.unmask() == text
    assert len(redacted_lines(text, path)) == len(text.splitlines())


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=1, max_size=16))
def test_every_planted_kind_is_masked_alone(seed: bytes) -> None:
    for detector_id, value, template in make_planted(seed):
        text = "# settings\n" + template.replace("{value}", value) + "\n"
        masked = mask_secrets(text, "settings.txt")
        assert value not in masked.text, detector_id
        assert masked.unmask() == text
