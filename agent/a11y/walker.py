"""Walking the tree without ever blocking the caller: the walk runs in a worker process killed at a hard deadline.

A hung accessibility bus, an application that stops answering mid-walk or a huge tree costs at most `deadline_s`
(the elements read before it are kept, marked partial). The worker is started once and reused, so a walk pays no
interpreter start-up; after a kill the next walk starts a fresh one.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time

from grounding.geometry import Box

from .backend import Limits
from .element import Element, Snapshot

DEFAULT_DEADLINE_S = 1.5


class Walker:
    """Owns one worker process. `walk` is thread-safe (one walk at a time)."""

    def __init__(self, command: list[str] | None = None):
        self.command = command or [sys.executable, "-m", "agent.a11y.worker"]
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker now (it takes a few tenths of a second), so the first walk does not wait for it."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self._process

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
        self._process = None

    def walk(self, limits: Limits = Limits(), deadline_s: float = DEFAULT_DEADLINE_S) -> Snapshot:
        start = time.monotonic()
        with self._lock:
            try:
                process = self._ensure()
                process.stdin.write(json.dumps(_request(limits)) + "\n")
                process.stdin.flush()
            except OSError as exc:
                self._kill()
                return Snapshot((), "failed", f"cannot start the accessibility worker: {exc}", time.monotonic() - start)
            return self._collect(process, start, deadline_s)

    def _collect(self, process: subprocess.Popen, start: float, deadline_s: float) -> Snapshot:
        elements: list[Element] = []
        lines = _Lines(process.stdout.fileno())
        while True:
            try:
                line = lines.next(start + deadline_s)
            except TimeoutError:
                self._kill()
                status = "partial" if elements else "failed"
                return Snapshot(tuple(elements), status, f"deadline {deadline_s:g}s passed", time.monotonic() - start)
            if line is None:
                self._kill()
                return Snapshot(tuple(elements), "failed", "the accessibility worker died", time.monotonic() - start)
            message = json.loads(line)
            if "element" in message:
                elements.append(Element.from_dict(message["element"]))
                continue
            elapsed = time.monotonic() - start
            if "unavailable" in message:
                return Snapshot((), "unavailable", message["unavailable"], elapsed)
            if "failed" in message:
                return Snapshot(tuple(elements), "failed", message["failed"], elapsed, message.get("nodes", 0))
            done = message["done"]
            status = "partial" if done["truncated"] else "complete"
            return Snapshot(tuple(elements), status, done["truncated"], elapsed, done["nodes"], tuple(done["notes"]))


class _Lines:
    """Whole lines from a pipe, each waited for only until a deadline. Reads the file descriptor itself: a buffered
    file object may hold lines that select() no longer sees."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def next(self, deadline: float) -> str | None:
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8")


def _request(limits: Limits) -> dict:
    return {
        "scope": limits.scope,
        "max_nodes": limits.max_nodes,
        "max_depth": limits.max_depth,
        "max_children": limits.max_children,
        "call_timeout_s": limits.call_timeout_s,
        "region": limits.region.to_list() if isinstance(limits.region, Box) else None,
    }


_shared: Walker | None = None
_shared_lock = threading.Lock()


def shared() -> Walker:
    """The process-wide walker (one worker for all grounders and scripts), stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Walker()
            atexit.register(_shared.close)
        return _shared
