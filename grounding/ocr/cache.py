"""Per-image memory of OCR results: an in-process LRU, plus an opt-in directory for development runs, and the last
screenshots read, so a new one that differs from one of them in a few places is read only there (see `changes`).

Many instructions are asked of one screenshot (an eval set, an agent's step), so OCR is paid once per image. The LRU
is keyed by the image's content hash and is safe to share between threads; a second thread asking for an image that
is being read waits for that reading instead of starting its own. Setting SCREENGROUND_OCR_CACHE to a directory also
keeps results on disk across processes.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import Screen

ENV_DIR = "SCREENGROUND_OCR_CACHE"


class ScreenCache:
    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._screens: OrderedDict[str, Screen] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Lock] = {}

    def get_or_compute(self, key: str, compute: Callable[[], Screen]) -> tuple[Screen, bool]:
        """The screen for `key` and whether it came from a cache (memory or disk)."""
        with self._lock:
            screen = self._hit(key)
            if screen is not None:
                return screen, True
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                screen = self._hit(key)
            if screen is not None:
                return screen, True
            screen = _load(key)
            cached = screen is not None
            if screen is None:
                screen = compute()
                store(key, screen)
            with self._lock:
                self._screens[key] = screen
                self._screens.move_to_end(key)
                while len(self._screens) > self.capacity:
                    self._screens.popitem(last=False)
                self._pending.pop(key, None)
            return screen, cached

    def _hit(self, key: str) -> Screen | None:
        screen = self._screens.get(key)
        if screen is not None:
            self._screens.move_to_end(key)
        return screen

    def clear(self) -> None:
        with self._lock:
            self._screens.clear()


@dataclass(frozen=True)
class Frame:
    """A screenshot's pixels (RGB) and its reading."""

    pixels: np.ndarray
    screen: Screen


# A new screenshot is compared with the remembered ones of its size on every THUMB-th pixel of every THUMB-th row;
# one that differs there in a fifth of the samples or more is another screen (`changes` would read it afresh anyway).
THUMB = 16
_ALIKE = 0.2


class Frames:
    """The last screenshots read, newest first, at most `max_bytes` of pixels; thread-safe.

    A live step looks at the screen, then at its zoomed views (tiles, crops), so several frames of one size are
    remembered and a new one starts from the most alike of them. `kind` separates readings that are not comparable
    (another detector limit).
    """

    def __init__(self, max_bytes: int = 96 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._frames: list[tuple[Hashable, np.ndarray, Frame]] = []
        self._lock = threading.Lock()

    def nearest(self, pixels: np.ndarray, kind: Hashable) -> Frame | None:
        """The remembered frame of this size and kind most like `pixels`, when alike enough to start from."""
        thumb = pixels[::THUMB, ::THUMB]
        with self._lock:
            same = [(t, f) for k, t, f in self._frames if k == kind and f.pixels.shape == pixels.shape]
        best, best_share = None, _ALIKE
        for other, frame in same:
            share = float((other != thumb).any(axis=2).mean())
            if share < best_share:
                best, best_share = frame, share
        return best

    def add(self, pixels: np.ndarray, screen: Screen, kind: Hashable) -> None:
        frame = Frame(pixels, screen)
        with self._lock:
            self._frames.insert(0, (kind, pixels[::THUMB, ::THUMB].copy(), frame))
            total = 0
            for i, (_, _, kept) in enumerate(self._frames):
                total += kept.pixels.nbytes
                if total > self.max_bytes and i > 0:
                    del self._frames[i:]
                    break

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


def _path(key: str) -> Path | None:
    directory = os.environ.get(ENV_DIR)
    return Path(directory) / f"{key}.json" if directory else None


def _load(key: str) -> Screen | None:
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        return Screen.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a stale or broken entry is simply recomputed


def store(key: str, screen: Screen) -> None:
    """Write the screen to the disk cache, when one is configured (after new boxes were read)."""
    path = _path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(screen.to_dict()), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # the disk cache is an optimisation; failing to write it must not fail a locate
