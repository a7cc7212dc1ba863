"""Masking and redaction: what the agent, the file view and snippets are allowed to see."""

from __future__ import annotations

from core.redact import redact
from core.secrets import SecretMasker, find_secrets, mask_secrets, redact_line, redact_secrets, redacted_lines
from tests.secrets.planted import PLANTED, fragments, planted_files


def test_mask_round_trip_and_nothing_left_for_every_planted_file() -> None:
    for path, text in planted_files().items():
        masked = mask_secrets(text, path)
        assert masked.unmask() == text, path
        for _, value, _ in PLANTED:
            for fragment in fragments(value):
                assert fragment not in masked.text, (path, fragment[:6])
        assert masked.count >= len(PLANTED)
        assert "«SECRET_1»" in masked.text


def test_same_value_same_placeholder_and_layout_kept() -> None:
    token = next(v for d, v, _ in PLANTED if d == "github-pat")
    text = f"GITHUB_TOKEN={token}\nGH_TOKEN={token}\nDB_PASSWORD=Xq7-Lm2-Vz9\n"
    masked = mask_secrets(text, ".env")
    assert masked.text == "GITHUB_TOKEN=«SECRET_1»\nGH_TOKEN=«SECRET_1»\nDB_PASSWORD=«SECRET_2»\n"
    assert dict(masked.mapping) == {"«SECRET_1»": token, "«SECRET_2»": "Xq7-Lm2-Vz9"}


def test_masker_numbers_consistently_across_files_and_unmasks_edits() -> None:
    masker = SecretMasker()
    first = masker.mask("DB_PASSWORD=Xq7-Lm2-Vz9\n", ".env")
    second = masker.mask(
        "services:\n  db:\n    environment:\n      DB_PASSWORD: Xq7-Lm2-Vz9\n      API_TOKEN: Hk3-Wp8-Rt5\n",
        "docker-compose.yml",
    )
    assert first.text == "DB_PASSWORD=«SECRET_1»\n"
    assert "DB_PASSWORD: «SECRET_1»" in second.text and "API_TOKEN: «SECRET_2»" in second.text
    # The agent edits masked text; applying its edit maps placeholders back to the real values.
    edited = second.text.replace("DB_PASSWORD: «SECRET_1»", "DB_PASSWORD_OLD: «SECRET_1»")
    assert masker.unmask(edited).count("Xq7-Lm2-Vz9") == 1
    assert "«SECRET_9»" in masker.unmask("keep «SECRET_9»")


def test_existing_placeholder_text_is_never_reused() -> None:
    text = "note: «SECRET_1» is a literal in docs\nDB_PASSWORD=Xq7-Lm2-Vz9\n"
    masked = mask_secrets(text, ".env")
    assert "DB_PASSWORD=«SECRET_2»" in masked.text
    assert masked.unmask() == text


def test_text_without_secrets_is_unchanged() -> None:
    text = "FROM alpine:3.19\nRUN echo hi\n"
    masked = mask_secrets(text, "Dockerfile")
    assert masked.text == text and not masked.mapping and masked.count == 0


def test_redaction_keeps_a_prefix_and_hash_only() -> None:
    token = next(v for d, v, _ in PLANTED if d == "npm-access-token")
    line = f"//registry.npmjs.org/:_authToken={token}"
    shown = redact_line(line, ".npmrc")
    assert (
        token not in shown
        and redact(token) in shown
        and shown.startswith("//registry.npmjs.org/:_authToken=npm_")
    )
    assert redact_secrets(f"A={token}\nB=1\n", ".env") == f"A={redact(token)}\nB=1\n"


def test_redact_line_hides_a_pem_body_line_seen_alone_but_not_a_digest() -> None:
    pem_value = next(v for d, v, _ in PLANTED if d == "private-key")
    body_line = pem_value.splitlines()[2]
    assert body_line not in redact_line(f"    {body_line}", "key.pem")
    digest = "image: alpine@sha256:" + "c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b"
    assert redact_line(digest, "compose.yml") == digest


def test_secret_match_repr_never_shows_the_value() -> None:
    token = next(v for d, v, _ in PLANTED if d == "github-pat")
    (match,) = find_secrets(f"T={token}\n", ".env")
    assert token not in repr(match) and match.value == token
    assert token not in repr(mask_secrets(f"T={token}\n", ".env"))


def test_redacted_lines_keep_line_numbers_and_use_file_context() -> None:
    pem_value = next(v for d, v, _ in PLANTED if d == "private-key")
    text = (
        "env:\n  - name: DB_PASSWORD\n    value: Xq7-Lm2-Vz9\nkey: |\n  -----BEGIN PRIVATE KEY-----\n"
        + "".join(f"  {line}\n" for line in pem_value.splitlines())
        + "  -----END PRIVATE KEY-----\n"
    )
    lines = redacted_lines(text, "values.yaml")
    assert len(lines) == len(text.splitlines())
    assert lines[2] == f"    value: {redact('Xq7-Lm2-Vz9')}"
    assert lines[5].startswith("  ") and lines[6] == "  …"
    assert not any(part in "\n".join(lines) for part in pem_value.splitlines())
