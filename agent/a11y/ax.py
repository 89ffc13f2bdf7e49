"""macOS: the AX API (pyobjc's ApplicationServices) on the live desktop.

Coordinates: AXPosition/AXSize are in points with the origin at the top-left of the primary display, the space mss
reports its monitors in; a Retina capture holds 2 pixels per point, which the screenshot's own map carries (points
-> pixels), so nothing is scaled here. Tested on recorded trees (tests/agent/a11y/fixtures/ax_*.json) only: this
project has no Mac to run it live. The process needs the Accessibility permission (System Settings > Privacy).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from grounding.geometry import Box

from .backend import Backend, Limits, Progress, Unavailable
from .element import Element
from .roles import AX, AX_SUBROLES
from .source import TreeSource, Window, walk_source


def to_element(props: dict[str, Any], app: str, window: str, path: tuple[int, ...]) -> Element | None:
    """AX attributes (AXRole, AXSubrole, AXTitle, AXDescription, AXHelp, AXValue, AXPosition, AXSize, AXEnabled,
    AXFocused, AXSelected, AXExpanded, AXHidden)."""
    position, size = props.get("AXPosition"), props.get("AXSize")
    if not position or not size or size[0] <= 0 or size[1] <= 0:
        return None
    role = str(props.get("AXRole") or "AXUnknown")
    subrole = str(props.get("AXSubrole") or "")
    kinds = AX_SUBROLES.get(subrole) or AX.get(role, ())
    # An icon-only button has no title; its name is its description ("Bold"), as VoiceOver reads it.
    name = str(props.get("AXTitle") or props.get("AXDescription") or "")
    description = str(props.get("AXHelp") or (props.get("AXDescription") if props.get("AXTitle") else "") or "")
    value = props.get("AXValue")
    states = set()
    if not props.get("AXHidden"):
        states |= {"showing", "visible"}
    if props.get("AXEnabled", True):
        states |= {"enabled", "sensitive"}
    for attribute, state in (("AXFocused", "focused"), ("AXSelected", "selected"), ("AXExpanded", "expanded")):
        if props.get(attribute):
            states.add(state)
    if role in ("AXCheckBox", "AXRadioButton") and value == 1:
        states.add("checked")
    text = str(value) if isinstance(value, str) else ""
    return Element(role=role if not subrole else f"{role}/{subrole}", kinds=kinds, name=name,
                   box=Box.from_xywh(position[0], position[1], size[0], size[1]), description=description,
                   text=text, states=frozenset(states), app=app, window=window, path=path)


class AxBackend(Backend):
    name = "ax"

    def __init__(self, source: TreeSource | None = None):
        self.source = source

    def walk(self, limits: Limits, progress: Progress) -> Iterator[Element]:
        yield from walk_source(self.source or LiveAx(), to_element, limits, progress)


class LiveAx:
    """The running applications' windows (frontmost application active) through AXUIElement."""

    ATTRIBUTES = ("AXRole", "AXSubrole", "AXTitle", "AXDescription", "AXHelp", "AXValue", "AXPosition", "AXSize",
                  "AXEnabled", "AXFocused", "AXSelected", "AXExpanded", "AXHidden")

    def __init__(self) -> None:
        try:
            import ApplicationServices as services
            from AppKit import NSWorkspace
        except ImportError as exc:
            raise Unavailable(f"the AX API is not available: {exc} (pip install pyobjc)") from None
        if not services.AXIsProcessTrusted():
            raise Unavailable("this process lacks the Accessibility permission (System Settings > Privacy)")
        self.services, self.workspace = services, NSWorkspace.sharedWorkspace()

    def _get(self, node, attribute: str):
        error, value = self.services.AXUIElementCopyAttributeValue(node, attribute, None)
        return value if error == 0 else None

    def windows(self) -> list[Window]:
        front = self.workspace.frontmostApplication().processIdentifier()
        found = []
        for running in self.workspace.runningApplications():
            pid = running.processIdentifier()
            app = self.services.AXUIElementCreateApplication(pid)
            for window in self._get(app, "AXWindows") or ():
                found.append(Window(str(running.localizedName()), window, pid == front))
        return found

    def children(self, node) -> list[Any]:
        return list(self._get(node, "AXChildren") or ())

    def properties(self, node) -> dict[str, Any]:
        values = {name: self._get(node, name) for name in self.ATTRIBUTES}
        for name, getter in (("AXPosition", "x y"), ("AXSize", "width height")):
            if values[name] is not None:
                ok, point = self.services.AXValueGetValue(
                    values[name], self.services.kAXValueCGPointType if name == "AXPosition"
                    else self.services.kAXValueCGSizeType, None)
                values[name] = tuple(getattr(point, f) for f in getter.split()) if ok else None
        return values
