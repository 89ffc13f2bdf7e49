"""From the extents a toolkit reports to screen pixels, per window, decided at run time.

Toolkits disagree: GTK3 on X11 with GDK_SCALE=2 reports logical (unscaled) extents; GTK4 may report window-relative
boxes; others report real X11 pixels. So each top-level accessible is matched to its X11 window (by process and
title) and the transform that lays the reported frame onto the real window is measured: a scale when the sizes
differ (the same scale then holds for the application's unmatched popups), an offset when the origin is off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from grounding.geometry import Box, Transform

_SAME = 0.04  # sizes within 4% are the same size (rounded extents, a border pixel)
_NEAR = 4.0  # origins within 4 px are the same place


@dataclass(frozen=True)
class XWindow:
    """A mapped top-level X11 window: its title, owner process and box in root (screen) pixels."""

    title: str
    pid: int | None
    box: Box


def x11_windows() -> list[XWindow]:
    """The mapped top-level windows of the X display ($DISPLAY), bottom of the stack first; [] without X11."""
    if not os.environ.get("DISPLAY"):
        return []
    try:
        from Xlib import X, display as xdisplay, error as xerror
    except ImportError:
        return []
    try:
        dpy = xdisplay.Display()
    except Exception:  # python-xlib raises several unrelated types for a missing or refusing display
        return []
    try:
        root = dpy.screen().root
        pid_atom = dpy.intern_atom("_NET_WM_PID")
        name_atom = dpy.intern_atom("_NET_WM_NAME")
        utf8 = dpy.intern_atom("UTF8_STRING")
        found = []
        for frame in root.query_tree().children:
            try:
                attributes = frame.get_attributes()
                if attributes.map_state != X.IsViewable:
                    continue
                geometry = frame.get_geometry()
                client = _client(frame, dpy.intern_atom("WM_STATE"))
                title = _text(client.get_full_property(name_atom, utf8)) or (client.get_wm_name() or "")
                pid_property = client.get_full_property(pid_atom, X.AnyPropertyType)
                pid = int(pid_property.value[0]) if pid_property and len(pid_property.value) else None
            except xerror.XError:  # the window went away while we looked
                continue
            box = Box.from_xywh(geometry.x, geometry.y, geometry.width, geometry.height)
            found.append(XWindow(title if isinstance(title, str) else title.decode("utf-8", "replace"), pid, box))
        return found
    finally:
        dpy.close()


def _client(frame, wm_state):
    """A window manager reparents clients into frames: the client (with the title) is the child with WM_STATE."""
    if frame.get_full_property(wm_state, 0) is not None:
        return frame
    for child in frame.query_tree().children:
        if child.get_full_property(wm_state, 0) is not None:
            return child
    return frame


def _text(prop) -> str:
    if prop is None:
        return ""
    value = prop.value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def match_window(title: str, pid: int | None, frame: Box, windows: list[XWindow]) -> XWindow | None:
    """The X window a top-level accessible is: same process (when both know it) and same title; among several,
    the one whose shape is closest to the reported frame's."""
    same = [w for w in windows if w.title == title and (pid is None or w.pid is None or w.pid == pid)]
    if not same or frame.width <= 0 or frame.height <= 0:
        return None
    aspect = frame.width / frame.height
    return min(same, key=lambda w: abs(w.box.width / max(w.box.height, 1) - aspect) + w.box.center.distance(frame.center) / 1e4)


def scale_between(frame: Box, window: Box) -> float:
    """How many screen pixels the toolkit's unit is: 1 unless both sides differ by the same factor."""
    if frame.width <= 0 or frame.height <= 0:
        return 1.0
    sx, sy = window.width / frame.width, window.height / frame.height
    if abs(sx - sy) > _SAME * max(sx, sy) or abs(sx - 1.0) <= _SAME:
        return 1.0
    return round((sx + sy) / 2, 2)


def correction(frame: Box, window: XWindow | None, app_scale: float) -> Transform:
    """The transform from the extents the toolkit reported for a window's elements to screen pixels."""
    scale = scale_between(frame, window.box) if window is not None else app_scale
    to_screen = Transform.scaling(scale)
    if window is None:
        return to_screen
    placed = to_screen.apply_box(frame)
    dx, dy = window.box.x1 - placed.x1, window.box.y1 - placed.y1
    if abs(dx) <= _NEAR and abs(dy) <= _NEAR:
        return to_screen
    # Window-relative extents (GTK4) or a frame the toolkit places elsewhere: the X server knows where it is.
    return to_screen.then(Transform.translate(dx, dy))
