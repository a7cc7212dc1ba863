"""Duplication reports: text for people, JSON for tools, SARIF for code scanning."""

from __future__ import annotations

import json
from collections.abc import Sequence

from core import __version__
from core.dupes.model import DuplicateCluster, Gap

ABSTRACTION_TEXT = {
    "composite-action": "a composite action in .github/actions/",
    "reusable-workflow": "a reusable workflow (on: workflow_call)",
    "yaml-anchor": "a YAML anchor in the same file",
    "compose-anchor": "an x- block with an anchor and << merges",
    "compose-extends": "compose `extends` from a shared file",
    "gitlab-extends": "a hidden template job with extends:",
    "docker-base-stage": "a shared base stage or base image",
    "shell-lib": "a shared library script the scripts source",
    "env-template": "one shared .env template",
    "kustomize-base": "a kustomize base with per-service patches (or a Helm chart)",
    "docker-script": "a shared script each image copies in and runs (or a shared base image)",
    "compose-include": "one shared compose file pulled in with include:",
}
CATEGORY_RULES = {
    "gha-steps": ("DT-U001", "Copy-pasted GitHub Actions steps"),
    "gha-job": ("DT-U002", "Copy-pasted GitHub Actions job"),
    "gitlab-job": ("DT-U003", "Copy-pasted GitLab CI job"),
    "gitlab-script": ("DT-U004", "Copy-pasted GitLab CI script lines"),
    "compose-service": ("DT-U005", "Copy-pasted compose service settings"),
    "docker-run": ("DT-U006", "Copy-pasted Dockerfile instructions"),
    "shell-statements": ("DT-U007", "Copy-pasted shell statements"),
    "shell-function": ("DT-U008", "Copy-pasted shell function"),
    "env-keys": ("DT-U009", "Repeated set of environment variables"),
    "k8s-manifest": ("DT-U010", "Copy-pasted Kubernetes manifest"),
    "docker-commands": ("DT-U011", "Copy-pasted RUN command chain"),
    "docker-stage": ("DT-U012", "Copy-pasted Dockerfile stage"),
    "compose-block": ("DT-U013", "Copy-pasted compose top-level block"),
}
#: what one unit of a sequence category is called in a sentence
UNIT_NOUNS = {"gha-steps": "step", "gitlab-script": "script line", "docker-run": "instruction",
              "shell-statements": "statement", "docker-commands": "command"}


def gap_text(cluster: DuplicateCluster, gap: Gap) -> str:
    """One gap of a near-miss group as a sentence: "copy 2 has an extra step at line 14: <label>"."""
    noun = UNIT_NOUNS.get(cluster.category, "unit")
    copy = f"copy {gap.occurrence + 1}"
    if gap.kind == "missing":
        return f"{copy} is missing a {noun} after line {gap.line}: {gap.label}"
    if gap.kind == "replaced":
        return f"{copy} has a different {noun} at line {gap.line}: {gap.label}"
    return f"{copy} has an extra {noun} at line {gap.line}: {gap.label}"


def cluster_dict(cluster: DuplicateCluster) -> dict[str, object]:
    return {
        "id": cluster.id,
        "category": cluster.category,
        "abstraction": cluster.abstraction,
        "copies": cluster.copies,
        "lines_each": cluster.lines_each,
        "lines_saved": cluster.lines_saved,
        "exact": cluster.exact,
        "touches": list(cluster.touches),
        "note": cluster.note,
        "occurrences": [
            {"path": o.path, "start_line": o.start_line, "end_line": o.end_line, "label": o.label}
            for o in cluster.occurrences
        ],
        "parameters": [{"name": p.name, "where": p.where, "values": list(p.values)}
                       for p in cluster.parameters],
        "gaps": [{"occurrence": g.occurrence, "kind": g.kind, "position": g.position, "after": g.after,
                  "path": cluster.occurrences[g.occurrence].path, "line": g.line, "label": g.label,
                  "text": gap_text(cluster, g)} for g in cluster.gaps],
    }


def render_text(clusters: Sequence[DuplicateCluster]) -> str:
    if not clusters:
        return "no duplication found\n"
    out: list[str] = []
    for n, c in enumerate(clusters, 1):
        near = f" (near miss: {len(c.gaps)} gap(s))" if c.gaps else ""
        out.append(f"#{n} {CATEGORY_RULES.get(c.category, ('', c.category))[1]}: {c.copies} copies of "
                   f"{c.lines_each} lines{near}, saves ~{c.lines_saved} lines  [{c.id}]")
        out.append(f"   → {ABSTRACTION_TEXT.get(c.abstraction, c.abstraction)}")
        for o in c.occurrences:
            out.append(f"   {o.path}:{o.start_line}-{o.end_line}  {o.label}")
        for p in c.parameters:
            out.append(f"   parameter {p.name}: {' | '.join(p.values)}")
        out.extend(f"   gap: {gap_text(c, g)}" for g in c.gaps)
        if c.touches:
            out.append(f"   touches: {', '.join(c.touches)}")
        if c.note:
            out.append(f"   note: {c.note}")
        out.append("")
    total = sum(c.lines_saved for c in clusters)
    out.append(f"{len(clusters)} group(s); about {total} lines could go")
    return "\n".join(out) + "\n"


def render_json(clusters: Sequence[DuplicateCluster]) -> str:
    data = {
        "tool": {"name": "devops-tui", "version": __version__},
        "summary": {"groups": len(clusters), "lines_saved": sum(c.lines_saved for c in clusters)},
        "groups": [cluster_dict(c) for c in clusters],
    }
    return json.dumps(data, indent=2) + "\n"


def render_sarif(clusters: Sequence[DuplicateCluster]) -> str:
    """One result per group at its first copy, the other copies as related locations."""
    rules = [
        {
            "id": rid,
            "name": title.replace(" ", ""),
            "shortDescription": {"text": title},
            "fullDescription": {"text": f"{title}: the same content is maintained in several places."},
            "help": {"text": "Replace the copies with one abstraction; `devops-tui` proposes it."},
            "defaultConfiguration": {"level": "note"},
            "properties": {"tags": ["maintainability", "duplication"], "aliases": ["jscpd:duplication"]},
        }
        for rid, title in CATEGORY_RULES.values()
    ]
    index = {r["id"]: i for i, r in enumerate(rules)}

    def location(path: str, start: int, end: int) -> dict[str, object]:
        return {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                                     "region": {"startLine": start, "endLine": end}}}

    results = []
    for c in clusters:
        rid, title = CATEGORY_RULES.get(c.category, ("DT-U000", c.category))
        first = c.occurrences[0]
        results.append({
            "ruleId": rid,
            **({"ruleIndex": index[rid]} if rid in index else {}),
            "level": "note",
            "message": {"text": f"{title}: {c.copies} copies of {c.lines_each} lines; "
                                f"use {ABSTRACTION_TEXT.get(c.abstraction, c.abstraction)}."
                                + "".join(f" Near miss: {gap_text(c, g)}." for g in c.gaps)},
            "locations": [location(first.path, first.start_line, first.end_line)],
            "relatedLocations": [
                {"id": i, **location(o.path, o.start_line, o.end_line)}
                for i, o in enumerate(c.occurrences[1:], 1)
            ],
            "partialFingerprints": {"primaryLocationLineHash": c.id},
        })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "devops-tui", "version": __version__, "rules": rules}},
                  "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"
