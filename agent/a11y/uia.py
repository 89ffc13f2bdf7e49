"""Windows: UI Automation, read through comtypes (`pip install comtypes`) on the live desktop.

Coordinates: UIA's BoundingRectangle is in physical pixels of the virtual screen (negative left of the primary
monitor), the same space mss captures in once the process is per-monitor DPI aware, which mss makes it. Tested on
recorded trees (tests/agent/a11y/fixtures/uia_*.json) only: this project has no Windows machine to run it live.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from grounding.geometry import Box

from .backend import Backend, Limits, Progress, Unavailable
from .element import Element
from .roles import UIA, UIA_CONTROL_TYPES
from .source import TreeSource, Window, walk_source

TOGGLE_ON, EXPANDED = 1, 1  # ToggleState_On, ExpandCollapseState_Expanded


def to_element(props: dict[str, Any], app: str, window: str, path: tuple[int, ...]) -> Element | None:
    """UIA properties (their programmatic names: ControlType, Name, BoundingRectangle as left/top/right/bottom,
    IsOffscreen, IsEnabled, HasKeyboardFocus, HelpText, ToggleState, IsSelected, ExpandCollapseState, Value)."""
    rect = props.get("BoundingRectangle")
    if not rect or rect[2] <= rect[0] or rect[3] <= rect[1]:
        box = None
    else:
        box = Box(*map(float, rect))
    role = UIA_CONTROL_TYPES.get(int(props.get("ControlType", 0)), "Custom")
    states = set()
    if not props.get("IsOffscreen", False):
        states |= {"showing", "visible"}
    if props.get("IsEnabled", True):
        states |= {"enabled", "sensitive"}
    if props.get("HasKeyboardFocus"):
        states.add("focused")
    if props.get("ToggleState") == TOGGLE_ON:
        states.add("checked")
    if props.get("IsSelected"):
        states.add("selected")
    if props.get("ExpandCollapseState") == EXPANDED:
        states.add("expanded")
    if box is None:
        return None
    return Element(role=role, kinds=UIA.get(role, ()), name=str(props.get("Name") or ""), box=box,
                   description=str(props.get("HelpText") or ""), text=str(props.get("Value") or ""),
                   states=frozenset(states), app=app, window=window, path=path)


class UiaBackend(Backend):
    name = "uia"

    def __init__(self, source: TreeSource | None = None):
        self.source = source

    def walk(self, limits: Limits, progress: Progress) -> Iterator[Element]:
        yield from walk_source(self.source or LiveUia(), to_element, limits, progress)


class LiveUia:
    """The desktop's top-level windows and their descendants through IUIAutomation's control view."""

    PROPERTIES = {  # UIA_*PropertyId
        "ControlType": 30003, "Name": 30005, "BoundingRectangle": 30001, "IsOffscreen": 30022, "IsEnabled": 30010,
        "HasKeyboardFocus": 30008, "HelpText": 30013, "ToggleState": 30086, "IsSelected": 30079,
        "ExpandCollapseState": 30070, "Value": 30045, "ProcessId": 30002,
    }

    def __init__(self) -> None:
        try:
            import comtypes.client

            comtypes.client.GetModule("UIAutomationCore.dll")
            from comtypes.gen import UIAutomationClient as uia
        except (ImportError, OSError) as exc:
            raise Unavailable(f"UI Automation is not available: {exc} (pip install comtypes)") from None
        self.automation = comtypes.client.CreateObject(uia.CUIAutomation, interface=uia.IUIAutomation)
        self.walker = self.automation.ControlViewWalker

    def windows(self) -> list[Window]:
        root = self.automation.GetRootElement()
        focused = self.automation.GetFocusedElement()
        active_pid = focused.CurrentProcessId if focused else None
        found = []
        for child in self.children(root):
            pid = child.CurrentProcessId
            found.append(Window(str(pid), child, pid == active_pid))
        return found

    def children(self, node) -> list[Any]:
        found, child = [], self.walker.GetFirstChildElement(node)
        while child:
            found.append(child)
            child = self.walker.GetNextSiblingElement(child)
        return found

    def properties(self, node) -> dict[str, Any]:
        values = {name: node.GetCurrentPropertyValue(number) for name, number in self.PROPERTIES.items()}
        rect = values.get("BoundingRectangle")
        if rect is not None and len(rect) == 4:  # UIA gives left, top, width, height through the variant
            left, top, width, height = rect
            values["BoundingRectangle"] = (left, top, left + width, top + height)
        return values
