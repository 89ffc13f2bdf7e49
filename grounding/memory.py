"""Handing freed memory back to the system.

The models run in several threads (eval workers, the zoom loop's looks, a desktop agent's steps), and glibc keeps
the blocks a thread frees in its heap: after a 4K screen's detector activations or a busy screen's icon crops, a
process would otherwise stay at its peak. Elsewhere (musl, macOS, Windows) these calls do nothing.
"""

from __future__ import annotations

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
