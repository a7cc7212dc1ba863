"""The report as plain JSON-ready data (for `--json`, the agent's layer tool and CI artefacts).

Contract: `report_to_dict` is lossless for every figure and event but leaves out the per-layer file
lists unless asked (`changes=True`), since an image may hold millions of entries.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.layers.model import LayerReport


def report_to_dict(
    report: LayerReport, *, changes: bool = False, events: int | None = None
) -> dict[str, Any]:
    """JSON-ready dict; `events` caps the listed waste events (biggest first), None lists all."""
    listed = report.biggest_events(len(report.events) if events is None else events)
    data: dict[str, Any] = {
        "image": report.image,
        "source": report.source,
        "content_bytes": report.content_bytes,
        "visible_bytes": report.visible_bytes,
        "wasted_bytes": report.wasted_bytes,
        "efficiency": report.efficiency,
        "base_layers": report.base_layers,
        "base_known": report.base_known,
        "user_content_bytes": report.user_content_bytes,
        "user_wasted_bytes": report.user_wasted_bytes,
        "user_wasted_percent": report.user_wasted_percent,
        "layers": [asdict(layer) for layer in report.layers],
        "waste_events": [
            {**asdict(e), "cause": e.cause.value} for e in listed
        ],
        "waste_event_count": len(report.events),
        "hints": [asdict(h) for h in report.hints],
        "duplicates": [
            {**asdict(d), "wasted_bytes": d.wasted_bytes} for d in report.duplicates
        ],
        "notes": list(report.notes),
    }
    if report.dive is not None:
        data["dive"] = asdict(report.dive)
    if changes:
        data["changes"] = [
            [{**asdict(f), "change": f.change.value} for f in report.layer_files(index)]
            for index in range(len(report.layers))
        ]
    return data
