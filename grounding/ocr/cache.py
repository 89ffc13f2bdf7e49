"""Per-image memory of OCR results: an in-process LRU, plus an opt-in directory for development runs.

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
from pathlib import Path
from typing import Callable

from .engine import Page

ENV_DIR = "SCREENGROUND_OCR_CACHE"


class PageCache:
    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._pages: OrderedDict[str, Page] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Lock] = {}

    def get_or_compute(self, key: str, compute: Callable[[], Page]) -> tuple[Page, bool]:
        """The page for `key` and whether it came from a cache (memory or disk)."""
        with self._lock:
            page = self._hit(key)
            if page is not None:
                return page, True
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                page = self._hit(key)
            if page is not None:
                return page, True
            page = _load(key)
            cached = page is not None
            if page is None:
                page = compute()
                _store(key, page)
            with self._lock:
                self._pages[key] = page
                self._pages.move_to_end(key)
                while len(self._pages) > self.capacity:
                    self._pages.popitem(last=False)
                self._pending.pop(key, None)
            return page, cached

    def _hit(self, key: str) -> Page | None:
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def _path(key: str) -> Path | None:
    directory = os.environ.get(ENV_DIR)
    return Path(directory) / f"{key}.json" if directory else None


def _load(key: str) -> Page | None:
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        return Page.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a stale or broken entry is simply recomputed


def _store(key: str, page: Page) -> None:
    path = _path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(page.to_dict()), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # the disk cache is an optimisation; failing to write it must not fail a locate
