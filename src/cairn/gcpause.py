"""Holding off the cyclic garbage collector while a page of results is built or parsed.

A page of a thousand resources is tens of thousands of new containers (models, their dicts,
lists, the server's entity dicts), all alive until the page is done. Left on, the collector
runs every 700 of them, finds every one still reachable, promotes them, and soon runs full
collections over the whole heap: a third of the client's CPU per resource and a fifth of the
server's went there (bench/README.md, "SDK and CLI"). Paused for the few milliseconds of one
page, it runs once afterwards, over what is left.

Pauses nest and may overlap across threads (an embedded catalog parses a page on one thread
while the app builds the next on another): the collector is switched back on when the last
pause ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()


__all__ = ["gc_paused"]
