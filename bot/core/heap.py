"""Keeping Python's cycle collector off the long-lived objects, so it never pauses a reply for long.

The knowledge (tens of thousands of objects, millions at 10k entries) and discord.py's caches live as
long as the process. CPython's full collections walk every tracked object: with the knowledge in the
heap they paused the bot 50-200 ms every few thousand interactions. After start and after each
knowledge reload, `settle()` collects once and then freezes what is left (gc.freeze): frozen objects
are never walked again, so a collection only visits what was made since, a few thousand objects.
Unfreezing first lets a reload's old knowledge (it holds a cycle or two) be collected with it.
"""

from __future__ import annotations

import gc
import time


def settle() -> float:
    """Collect, then freeze every object alive; returns the seconds it took (once per start or reload)."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()  # the thresholds stay CPython's: young collections of a few hundred objects stay short
    return time.perf_counter() - started
