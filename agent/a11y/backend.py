"""The one interface every platform's accessibility reader implements, and what all of them keep.

A backend walks the live tree inside the walker's worker process (worker.py), so it may block: the parent kills the
worker at the deadline. It yields `Element`s in screen coordinates, active window first, and stops at the caps.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from grounding.geometry import Box

from .element import Element


class Unavailable(RuntimeError):
    """No accessibility service to talk to on this machine (no bus, no API, unsupported platform)."""


@dataclass(frozen=True)
class Limits:
    """How far one walk may go. `scope` "active": the windows of the application that has the active window
    (its menus and dialogs are windows of their own); "desktop": every application, the active one first."""

    scope: str = "active"
    max_nodes: int = 5000
    max_depth: int = 40
    max_children: int = 1000  # a node with more children (a spreadsheet's cells) is not descended into
    call_timeout_s: float = 0.4  # an application silent this long is skipped, the others still read
    region: Box | None = None  # screen area of interest (the screenshot's); elements outside it are dropped

    def __post_init__(self) -> None:
        if self.scope not in ("active", "desktop"):
            raise ValueError(f"scope must be 'active' or 'desktop', got {self.scope!r}")


@dataclass
class Progress:
    """What a walk has seen so far; the worker reports it with the result so a cut-short walk says how far it got."""

    nodes: int = 0
    truncated: str = ""  # which cap stopped the walk, when one did
    notes: list[str] | None = None

    def note(self, text: str) -> None:
        self.notes = [*(self.notes or []), text]


class Backend(ABC):
    name: str

    @abstractmethod
    def walk(self, limits: Limits, progress: Progress) -> Iterator[Element]:
        """The visible, enabled, named elements, active window first; raises Unavailable when there is no tree."""


def keep(name: str, text: str, box: Box | None, states: frozenset[str], region: Box | None) -> bool:
    """The rule every backend applies: on screen (showing and visible), usable (enabled), named (a name or a text),
    with a positive box inside the area of interest."""
    if not (name.strip() or text.strip()) or box is None or box.width < 1 or box.height < 1:
        return False
    if not {"showing", "visible"} <= states or "enabled" not in states:
        return False
    if region is not None and not region.contains(box.center):
        return False
    return True


def for_platform() -> Backend:
    """The backend for this operating system."""
    if sys.platform.startswith("linux"):
        from .atspi import AtspiBackend

        return AtspiBackend()
    if sys.platform == "win32":
        from .uia import UiaBackend

        return UiaBackend()
    if sys.platform == "darwin":
        from .ax import AxBackend

        return AxBackend()
    raise Unavailable(f"no accessibility backend for {sys.platform}")
