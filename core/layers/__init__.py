"""Docker image layer analysis: per-layer changes, waste, efficiency, dive's figures, hints, CI gates.

Entry point: `analyse_image(target)` for an engine image, a `docker save` archive or an OCI layout
directory; it returns a `LayerReport` or raises `LayerError`. Plain Python (no Textual, no Rich).
"""

from core.layers.analysis import analyse_data, analyse_image, load_image
from core.layers.errors import LayerError
from core.layers.model import (
    Change,
    DiveMetrics,
    DuplicateFiles,
    Hint,
    LayerFile,
    LayerReport,
    LayerSummary,
    WasteCause,
    WasteEvent,
)

__all__ = [
    "Change",
    "DiveMetrics",
    "DuplicateFiles",
    "Hint",
    "LayerError",
    "LayerFile",
    "LayerReport",
    "LayerSummary",
    "WasteCause",
    "WasteEvent",
    "analyse_data",
    "analyse_image",
    "load_image",
]
