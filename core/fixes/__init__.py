"""Quick fixes: a fixer per rule ID that turns a finding into a `Proposal` for the patch engine.

`fix_for(finding, index)` fixes one finding; `fix_all(findings, index, rule=, path=, safe_only=)` (and
`plan_fixes`, which also says what it skipped) fixes every instance of the selected rules in the
selected files as ONE proposal. `fixable_rule_ids()` lists the rules with a fixer; `NOT_OFFERED` says
why some rules have none.
"""

from core.fixes.engine import FixPlan, Skipped, fix_all, fix_for, fix_one, plan_fixes
from core.fixes.model import CannotFix, SideFile, TextFix
from core.fixes.registry import NOT_OFFERED, Fixer, fixable_rule_ids, fixer, registered_fixers

__all__ = [
    "NOT_OFFERED",
    "CannotFix",
    "FixPlan",
    "Fixer",
    "SideFile",
    "Skipped",
    "TextFix",
    "fix_all",
    "fix_for",
    "fix_one",
    "fixable_rule_ids",
    "fixer",
    "plan_fixes",
    "registered_fixers",
]
