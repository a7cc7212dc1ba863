"""The one exception layer analysis raises: `LayerError`, whose message is written for the user.

Everything that can go wrong with an image source (no engine, unknown image, truncated or corrupt
archive, a layer that is not a tar, a missing blob) ends as a `LayerError`; no partial report is ever
returned in its place.
"""

from __future__ import annotations


class LayerError(Exception):
    """Analysis could not finish; `str(error)` is a complete sentence for the user."""
