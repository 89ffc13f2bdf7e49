"""The live desktop's accessibility tree: what controls the applications publish, where, and in what state.

    from agent.a11y import walk
    snapshot = walk()                          # the active window's application; walk(scope="desktop") for all
    for element in snapshot.elements:          # frozen Element records
        element.role, element.name, element.description, element.states, element.box   # box: screen pixels
    walk(screenshot=capture())                 # the same, plus element.image_box in that screenshot's pixels

A walk never blocks: it runs in a worker process killed at `deadline_s` (the elements read by then are kept and the
snapshot says "partial"); no bus or no backend gives an empty snapshot whose status says "unavailable". Linux reads
AT-SPI (tested against real applications); Windows UI Automation and macOS AX sit behind the same interface.
The grounders built on it (`a11y`, and the fused tree-then-vision grounder the desktop agent uses) are in grounder.py.
"""

from __future__ import annotations

from typing import Any

from .backend import Limits, Unavailable
from .element import Element, Snapshot
from .walker import DEFAULT_DEADLINE_S, Walker, shared

__all__ = ["DEFAULT_DEADLINE_S", "Element", "Limits", "Snapshot", "Unavailable", "Walker", "walk"]


def walk(scope: str = "active", deadline_s: float = DEFAULT_DEADLINE_S, screenshot: Any = None, **limits: Any) -> Snapshot:
    """One walk of the live tree. `screenshot` (an agent.capture.Screenshot) limits it to the captured area and adds
    each element's box in the screenshot's pixels; `limits` are `Limits` fields (max_nodes, max_depth, ...)."""
    region = screenshot.screen.region if screenshot is not None else None
    snapshot = shared().walk(Limits(scope=scope, region=region, **limits), deadline_s)
    if screenshot is None:
        return snapshot
    return snapshot.in_image(screenshot.screen.to_screen.inverse(), screenshot.image.size)
