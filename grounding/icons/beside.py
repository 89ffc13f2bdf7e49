"""A check box, radio button or switch named by its label: the click belongs on the control drawn beside the words.

OCR finds the label ("notebooks", "Wrap lines"); the control is the small square-ish mark on the same row just
before it (or just after it, as switches often are). Toolkits that make the label clickable too include it in the
control's area, so the mark is the right point either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from grounding.geometry import Box, Transform

from .proposals import propose, screen_scale

TOGGLE_ROLES = frozenset({"checkbox", "radio", "switch"})
_TOGGLE_VERB = re.compile(
    r"^\s*(?:please\s+|请)?(?:tick|untick|toggle|check|uncheck|turn on|turn off|switch on|switch off|勾选|取消勾选)\b",
    re.IGNORECASE,
)
REACH = 3.0  # the farthest gap between label and control, in label heights
WIDEST = 2.6  # a switch's width, in label heights; check boxes and radio buttons are about one
LONGEST_ROW = 3  # marks followed before the label: the control, a type icon, a status mark
TIGHT = 0.75  # the widest gap between marks of one group, in label heights


def names_a_toggle(instruction: str, role: str | None) -> bool:
    """The instruction asks for a check box, radio button or switch ("tick X", "the X checkbox")."""
    return role in TOGGLE_ROLES or bool(_TOGGLE_VERB.match(instruction))


def control_beside(rgb: np.ndarray, label: Box, exclude: Iterable[Box] = ()) -> Box | None:
    """The control mark on the label's row, or None when there is none.

    Marks before the label are followed leftwards while they sit tight together ("[x] [folder icon] notebooks"):
    the control opens the row, the marks after it show what the row is. Only when nothing sits before the label is a
    mark after it (a switch) taken.
    """
    height, width = rgb.shape[:2]
    h = label.height
    reach = REACH * h
    strip = Box(label.x1 - 4 * (reach + WIDEST * h), label.y1 - h, label.x2 + reach + WIDEST * h, label.y2 + h)
    strip = strip.intersection(Box(0, 0, width, height))
    if strip is None:
        return None
    x1, y1, x2, y2 = strip.to_ints()
    to_strip = Transform.translate(-x1, -y1)
    found = propose(rgb[y1:y2, x1:x2], [to_strip.apply_box(b) for b in exclude], scale=screen_scale((width, height)))
    marks = [
        box
        for box in map(to_strip.inverse().apply_box, found)
        if abs(box.center.y - label.center.y) <= 0.5 * h
        and 0.6 * h <= box.height <= 2.0 * h
        and 0.6 * h <= box.width <= WIDEST * h
    ]
    before = sorted((b for b in marks if b.x2 <= label.x1 + 0.1 * h), key=lambda b: -b.x2)
    edge, gap, control = label.x1, reach, None
    for box in before[:LONGEST_ROW]:
        if edge - box.x2 > gap:
            break
        edge, gap, control = min(edge, box.x1), TIGHT * h, box
    if control is not None:
        return control
    after = sorted((b for b in marks if b.x1 >= label.x2 - 0.1 * h and b.x1 - label.x2 <= reach), key=lambda b: b.x1)
    return after[0] if after else None
