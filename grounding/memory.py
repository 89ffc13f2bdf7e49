"""Handing freed memory back to the system, and keeping computed values within a bound (`Remembered`).

The models run in several threads (eval workers, the zoom loop's looks, a desktop agent's steps), and glibc keeps
the blocks a thread frees in its heap: after a 4K screen's detector activations or a busy screen's icon crops, a
process would otherwise stay at its peak. Elsewhere (musl, macOS, Windows) these calls do nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

_M_ARENA_MAX = -8


def _glibc():
    """The C library when it is glibc (it has malloc_trim and mallopt), else None."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


_GLIBC = _glibc()


def trim() -> None:
    """Return the heaps' free blocks: a few milliseconds after one detection, about 30 ms after an icon search."""
    if _GLIBC is not None:
        _GLIBC.malloc_trim(0)


def keep_heaps_small() -> None:
    """Two glibc heaps for the whole process, instead of one per thread: with two, a dev-set evaluation peaked at
    1552 MB instead of 1705 MB, no slower. (Mapping big blocks on their own as well, M_MMAP_THRESHOLD at 1 or 16 MB,
    saved 80-300 MB more but made a start-up `ground locate` up to 1.6x slower from the kernel's page mapping:
    README, "Speed and memory".) The setting is the process's: it applies to every library in it, and only to threads
    that have no heap yet, so call it before the threads start."""
    if _GLIBC is not None:
        _GLIBC.mallopt(_M_ARENA_MAX, 2)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """Values computed before, by key, at most `capacity` of them, the least recently used forgotten first; safe to
    share between threads. Asked for many keys at once, as the models embed texts and crops in batches."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: Sequence[K]) -> list[V | None]:
        """Each key's value, None where it is not remembered."""
        with self._lock:
            found = [self._values.get(key) for key in keys]
            for key, value in zip(keys, found):
                if value is not None:
                    self._values.move_to_end(key)
            return found

    def put(self, keys: Sequence[K], values: Sequence[V]) -> None:
        with self._lock:
            self._values.update(zip(keys, values))
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)
