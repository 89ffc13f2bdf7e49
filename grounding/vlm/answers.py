"""What a model wrote: the first point or box in its answer, in any of the formats the open grounding families emit.

Pure Python and tolerant (extra text, reasoning before the answer, fenced JSON); it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..geometry import Box, Point


@dataclass(frozen=True)
class Answer:
    """What a model wrote, in its own coordinate space: a point, and the box when it answered with one."""

    point: Point
    box: Box | None = None


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_PAIR = rf"({_NUM})\s*[,\s]\s*({_NUM})"
_QUAD = rf"({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})"

# Tried in order; the first that matches anywhere in the text wins (models put the answer first or alone).
_KEYED_BOX = re.compile(rf"""["']?(?:bbox_2d|bbox|box)["']?\s*[:=]\s*[\[(]\s*{_QUAD}\s*[\])]""", re.IGNORECASE)
_KEYED_POINT = re.compile(
    rf"""["']?(?:point_2d|coordinate|click_point|point|position)["']?\s*[:=]\s*[\[(]\s*({_NUM})\s*,\s*({_NUM})"""
    rf"""(?:\s*,\s*({_NUM})\s*,\s*({_NUM}))?\s*[\])]""",
    re.IGNORECASE,
)
_XY = re.compile(
    rf"""(?<![A-Za-z_])["']?x["']?\s*[:=]\s*({_NUM})\s*[,;\s]\s*["']?y["']?\s*[:=]\s*({_NUM})""", re.IGNORECASE
)
_POINT_TAG = re.compile(rf"<point>\s*{_PAIR}\s*</point>", re.IGNORECASE)
_BOX_TOKENS = re.compile(r"<\|box_start\|>(.*?)<\|box_end\|>", re.DOTALL)
_START_BOX = re.compile(r"start_box\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
_TWO_PAIRS = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]\s*,?\s*[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]")
_BRACKETED = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})(?:\s*,\s*({_NUM})\s*,\s*({_NUM}))?\s*[\])]")
_ONLY_NUMBERS = re.compile(rf"^[\s\[\](),]*{_NUM}(?:[\s,]+{_NUM})*[\s\[\](),]*$")


def _answer(values: list[float]) -> Answer | None:
    if len(values) == 2:
        return Answer(Point(values[0], values[1]))
    if len(values) == 4:
        box = Box.from_corners(*values)
        return Answer(box.center, box)
    return None


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(_NUM, text)]


def _groups(match: re.Match[str]) -> list[float]:
    return [float(v) for v in match.groups() if v is not None]


def final_part(text: str) -> str:
    """Drops reasoning that may itself mention coordinates: text after </think>, and after UI-TARS's `Action:`."""
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    if re.search(r"\bAction:", text):
        text = re.split(r"\bAction:", text)[-1]
    return text


def parse_answer(text: str) -> Answer | None:
    """The first point or box in a model's answer, in any of the formats the families emit, or None.

    Two numbers make a point; four make a box [x1, y1, x2, y2] whose centre is the point. Never raises.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = final_part(text)
    for pattern in (_KEYED_BOX, _KEYED_POINT, _XY, _POINT_TAG):
        match = pattern.search(text)
        if match:
            return _answer(_groups(match))
    for pattern in (_BOX_TOKENS, _START_BOX):
        match = pattern.search(text)
        if match:
            found = _answer(_numbers(match.group(1)))
            if found:
                return found
    for pattern in (_TWO_PAIRS, _BRACKETED):
        match = pattern.search(text)
        if match:
            return _answer(_groups(match))
    if _ONLY_NUMBERS.match(text.strip()):
        return _answer(_numbers(text))
    return None
