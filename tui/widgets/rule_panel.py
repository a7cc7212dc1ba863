"""The rule panel: what the selected finding's rule checks, why it matters, its peer IDs and its fix.

Contract: `RulePanel.show_finding(finding)` describes the finding's rule from the registry (title,
severity, help text, the equivalent IDs of peer tools such as `hadolint:DL3007`) and says whether a
quick fix exists and which keys apply it; `show_finding(None)` explains how to pick one.
`quick_fix_status(rule_id)` is the one place that asks the optional quick-fix engine.
"""

from __future__ import annotations

from functools import cache

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.fixes import NOT_OFFERED, fixable_rule_ids
from core.models import Finding, Severity
from core.rules.base import registered_rules

SEVERITY_MARKUP: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


@cache
def _fix_registry() -> tuple[frozenset[str], dict[str, str]]:
    return frozenset(fixable_rule_ids()), dict(NOT_OFFERED)


def quick_fix_status(rule_id: str) -> tuple[bool, str]:
    """(has a quick fix, why not when it has none)."""
    fixable, not_offered = _fix_registry()
    return rule_id in fixable, not_offered.get(rule_id, "")


def _reflow(text: str) -> str:
    """Help texts are wrapped at 100 columns in the source; let the panel wrap them to its width."""
    return "\n\n".join(" ".join(part.split()) for part in text.strip().split("\n\n"))


def describe(finding: Finding) -> str:
    """The panel's markup for `finding`."""
    rule = registered_rules().get(finding.rule_id)
    style = SEVERITY_MARKUP[finding.severity]
    title = rule.title if rule is not None else ""
    lines = [f"[b]{escape(finding.rule_id)}[/]  [{style}] {finding.severity.label} [/]  "
             f"[b]{escape(title)}[/]",
             f"[dim]{escape(finding.path)}:{finding.line}[/]  {escape(finding.message)}"]
    if rule is not None and rule.help:
        lines += ["", escape(_reflow(rule.help))]
    if rule is not None and rule.aliases:
        lines += ["", "[b]Peer rules[/]  " + " · ".join(escape(a) for a in rule.aliases)]
    fixable, reason = quick_fix_status(finding.rule_id)
    if fixable:
        lines += ["", f"[b $success]Quick fix[/]  [b]x[/] this finding · [b]X[/] every "
                  f"{escape(finding.rule_id)} in this file · [b]A[/] in the repository"]
    else:
        lines += ["", "[dim]No quick fix for this rule" + (f": {escape(reason)}" if reason else "") + "[/]"]
    return "\n".join(lines)


class RulePanel(VerticalScroll, can_focus=False):
    """Help for the selected finding's rule, below the findings table."""

    DEFAULT_CSS = """
    RulePanel {
        height: auto;
        max-height: 40%;
        min-height: 3;
        background: $panel;
        padding: 0 1;
        border-top: hkey $panel-lighten-2;
        & > #rule-text { width: 1fr; height: auto; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="rule-text")

    def show_finding(self, finding: Finding | None) -> None:
        """Describe `finding`'s rule, or say how to choose a finding."""
        text = describe(finding) if finding is not None else "[dim]Select a finding to see its rule.[/]"
        self.query_one("#rule-text", Static).update(text)
        self.scroll_home(animate=False)

    @property
    def text(self) -> str:
        """What the panel shows, as plain text (for tests)."""
        return str(self.query_one("#rule-text", Static).render())
