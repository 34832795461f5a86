"""Garbage collection that does not pause a frame or a request.

After start-up (models, detector, the app and its imports loaded) nearly every object a process holds lives
as long as the process. ``settle()`` collects once, then moves them all to the permanent generation
(``gc.freeze()``), so that a full collection later walks only what was made since; and it raises the
young-generation threshold, so that a frame's or a request's short-lived containers die in fewer, cheaper
collections instead of being promoted towards the old generation.
"""

from __future__ import annotations

import gc

THRESHOLDS = (5_000, 20, 20)
"""gc.set_threshold: allocations before a young collection (Python's default 700), then young collections
per middle one and middle per full one (10 and 10)."""


def settle() -> None:
    """Call once start-up is done: collect, freeze what survived, set ``THRESHOLDS``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
