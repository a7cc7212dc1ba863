"""Human-readable findings, grouped by file; colour only when writing to a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from core.models import Finding, Severity, SkippedFile

_COLOURS = {
    Severity.CRITICAL: "\033[1;35m",
    Severity.HIGH: "\033[1;31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"


def summary_line(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True)]
    files = len({f.path for f in findings})
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun} in {files} file{'s' if files != 1 else ''}: " + ", ".join(parts)


def render_text(findings: Sequence[Finding], *, colour: bool = False,
                skipped: Sequence[SkippedFile] = (), titles: dict[str, str] | None = None) -> str:
    """One block per file: `line:col  SEVERITY  RULE  message`."""
    out: list[str] = []
    current = None
    for finding in findings:
        if finding.path != current:
            if current is not None:
                out.append("")
            current = finding.path
            out.append(f"\033[1m{finding.path}{_RESET}" if colour else finding.path)
        where = f"{finding.position.line}:{finding.position.column}"
        level = finding.severity.label.upper()
        if colour:
            level = f"{_COLOURS[finding.severity]}{level:<8}{_RESET}"
        else:
            level = f"{level:<8}"
        title = f" ({titles[finding.rule_id]})" if titles and finding.rule_id in titles else ""
        out.append(f"  {where:>8}  {level} {finding.rule_id}  {finding.message}{title}")
    if findings:
        out.append("")
    if skipped:
        out.append(f"{len(skipped)} file(s) skipped:")
        out.extend(f"  {s.path}: {s.reason}" for s in skipped[:20])
        if len(skipped) > 20:
            out.append(f"  … and {len(skipped) - 20} more (use --format json to see all)")
        out.append("")
    out.append(summary_line(findings))
    return "\n".join(out) + "\n"
