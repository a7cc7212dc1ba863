"""The efficiency gauge: how much of an image's stored content is still visible, as a bar and figures.

Contract: `EfficiencyGauge.show_report(report)` draws efficiency (visible / content bytes), content,
visible and wasted bytes and the user layers' waste; `clear_report()` empties it. The bar turns
yellow below 95 % and red below 80 %, the levels at which dive's default CI rules would complain.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from core.layers.hints import format_bytes
from core.layers.model import LayerReport

GOOD, FAIR = 0.95, 0.80
BAR_WIDTH = 24


def gauge_text(report: LayerReport, width: int = BAR_WIDTH) -> Text:
    """'Efficiency ▕██████░░▏ 87.3 %  content … · visible … · wasted … · user waste …'."""
    efficiency = report.efficiency
    style = "green" if efficiency >= GOOD else "yellow" if efficiency >= FAIR else "red"
    filled = round(efficiency * width)
    text = Text("Efficiency ", style="bold")
    text.append("▕")
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append("▏ ")
    text.append(f"{efficiency:.1%}", style=f"bold {style}")
    text.append(f"   content {format_bytes(report.content_bytes)} · visible "
                f"{format_bytes(report.visible_bytes)} · wasted {format_bytes(report.wasted_bytes)}"
                f" · user waste {report.user_wasted_percent:.1%}", style="dim")
    return text


class EfficiencyGauge(Static):
    """One line: the bar and the figures behind it."""

    DEFAULT_CSS = """
    EfficiencyGauge { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show_report(self, report: LayerReport) -> None:
        self.update(gauge_text(report))

    def clear_report(self) -> None:
        self.update("")
