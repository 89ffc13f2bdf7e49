"""Backends that read a tree node by node (Windows UI Automation, macOS AX) share one walk over a `TreeSource`:
the live platform API, or a recorded tree (JSON) that replays one. Each platform only says how its properties
become an `Element` (uia.py, ax.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .backend import Limits, Progress, keep
from .element import Element


@dataclass(frozen=True)
class Window:
    app: str
    node: Any  # whatever the source uses to name a node
    active: bool


class TreeSource(Protocol):
    def windows(self) -> list[Window]: ...

    def properties(self, node: Any) -> dict[str, Any]: ...

    def children(self, node: Any) -> list[Any]: ...


class RecordedSource:
    """A tree recorded as JSON: {"windows": [{"app", "active", "node": {properties..., "children": [...]}}]}."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    @classmethod
    def load(cls, path: str | Path) -> RecordedSource:
        return cls(json.loads(Path(path).read_text()))

    def windows(self) -> list[Window]:
        return [Window(w["app"], w["node"], bool(w.get("active"))) for w in self.data["windows"]]

    def properties(self, node: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in node.items() if k != "children"}

    def children(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        return list(node.get("children", ()))


# (properties, app, window title, path) -> the element, or None when the node is not one to keep
Convert = Callable[[dict[str, Any], str, str, tuple[int, ...]], "Element | None"]


def walk_source(source: TreeSource, convert: Convert, limits: Limits, progress: Progress) -> Iterator[Element]:
    """Depth-first through each window, active window first (only its application's windows for scope "active"),
    within the node, depth and child caps; keeps what `keep` keeps."""
    windows = sorted(source.windows(), key=lambda w: not w.active)
    active_apps = {w.app for w in windows if w.active}
    if limits.scope == "active" and active_apps:
        windows = [w for w in windows if w.app in active_apps]
    for index, window in enumerate(windows):
        own = convert(source.properties(window.node), window.app, "", (index,))
        title = own.name if own is not None else ""
        stack = [(window.node, (index,), 0)]
        while stack:
            node, path, depth = stack.pop()
            if progress.nodes >= limits.max_nodes:
                progress.truncated = f"node cap {limits.max_nodes}"
                return
            progress.nodes += 1
            element = convert(source.properties(node), window.app, title, path)
            if element is not None and keep(element.name, element.text, element.box, element.states, limits.region):
                yield element
            if element is not None and not {"showing", "visible"} <= element.states:
                continue  # an off-screen subtree is not read
            children = source.children(node)
            if len(children) > limits.max_children:
                progress.note(f"not read: the {len(children)} children of {element.role if element else 'a node'}")
                continue
            if depth + 1 > limits.max_depth:
                progress.truncated = f"depth cap {limits.max_depth}"
                continue
            stack += [(child, (*path, i), depth + 1) for i, child in reversed(list(enumerate(children)))]
