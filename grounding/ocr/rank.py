"""Ordering the matches: exact over fuzzy, a whole control over a piece of a longer line, then role and area hints.

The hints only move a candidate by a few hundredths, so they break ties between equally good readings (the same
word in the menu bar and in an open menu) without overruling a clearly better text match.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from grounding.geometry import Box, Point

from .instruction import Query
from .match import Candidate

# Per word of the surrounding line that the span leaves out, up to _MAX_EXTRA words.
_EXTRA_WORD_PENALTY = 0.02
_MAX_EXTRA = 5
_HINT_WEIGHT = 0.06
# Ties between equal normalised texts go to the one that also matches case and punctuation ("Delete" vs "DELETE?").
RAW_WEIGHT = 0.02
# "Fill:" is the caption of a field, not the Fill tab or button the instruction names (unless it asks for a label).
_LABEL_PENALTY = 0.05
_FIELDS = ("input", "dropdown")
_CAPTIONED = (*_FIELDS, "label")
# How far past a caption's colon its field starts, in caption heights.
_FIELD_OFFSET = 1.5


def _is_label(text: str) -> bool:
    return text.rstrip().endswith(":")


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float  # in [0, 1]
    unclipped: float  # what the order was decided on


def rank(query: Query, found: list[Candidate], size: tuple[int, int]) -> list[Ranked]:
    width, height = size
    ranked = []
    for candidate in found:
        score = candidate.similarity
        score -= _EXTRA_WORD_PENALTY * min(candidate.extra_words, _MAX_EXTRA)
        score += RAW_WEIGHT * fuzz.ratio(query.target, candidate.text) / 100
        if _is_label(candidate.text) and not _is_label(query.target) and query.role not in _CAPTIONED:
            score -= _LABEL_PENALTY
        score += _HINT_WEIGHT * place_fit(query, candidate.box, width, height)
        ranked.append((score, candidate))
    # Sort on the unclipped value so the tie-breakers still count between two exact matches; top-left wins last.
    ranked.sort(key=lambda r: (r[0], -r[1].box.y1, -r[1].box.x1), reverse=True)
    return [Ranked(candidate, min(1.0, max(0.0, score)), score) for score, candidate in ranked]


def best_possible(query: Query, box: Box, size: tuple[int, int], line_height: float | None = None) -> float:
    """The highest score any candidate read in this box could get (before clipping): an exact, whole, same-case label
    at the best place the box allows. A span may reach into a neighbour on its row (`match.rows` joins boxes up to
    1.2 heights apart, half a height higher or lower), so the place is taken over the box grown by that much; a hint
    is separable in x and y and monotonic in each, so its best lies at a corner. `line_height`: the tallest line the
    box may hold, when it is a region of the screen rather than one line (the box's height)."""
    width, height = size
    line_height = box.height if line_height is None else line_height
    grown = box.expand(1.2 * line_height, 0.5 * line_height)
    corners = [Box(x, y, x, y) for x in (grown.x1, grown.x2) for y in (grown.y1, grown.y2)]
    return 1.0 + RAW_WEIGHT + _HINT_WEIGHT * max(place_fit(query, corner, width, height) for corner in corners)


def place_fit(query: Query, box: Box, width: int, height: int) -> float:
    """How well a box's place fits the query's role and area hints, in [-1, 1]; 0 when nothing is said."""
    centre = box.center
    x, y = centre.x / width, centre.y / height
    area = query.area
    if area is None and query.role == "menu":
        area = "menu bar"
    if area is None and query.role in ("menu item", "submenu"):
        area = "open menu"
    if area == "menu bar":
        return max(-1.0, 1.0 - 2.0 * y)  # menu bars sit at the top of a window
    if area == "open menu":
        # An open menu hangs below the bar that opened it. Past the top eighth of the screen every row fits alike:
        # a menu's lower items are no likelier than its upper ones, and need not all be read before its top one.
        return min(1.0, 8.0 * y) - 0.5
    fit = 0.0
    if area:
        if "top" in area:
            fit += 1.0 - 2.0 * y
        if "bottom" in area:
            fit += 2.0 * y - 1.0
        if "left" in area:
            fit += 1.0 - 2.0 * x
        if "right" in area:
            fit += 2.0 * x - 1.0
    return max(-1.0, min(1.0, fit))


def click_point(query: Query, candidate: Candidate, size: tuple[int, int]) -> Point:
    """The centre of the matched words, except for a field named by its caption ("the Family box" matching
    "Family:"): the field lies just right of its caption, so the click goes a little past the colon."""
    box = candidate.box
    if query.role in _FIELDS and not query.shown_inside and _is_label(candidate.text):
        x = min(size[0] - 1.0, box.x2 + _FIELD_OFFSET * box.height)
        return Point(x, box.center.y)
    return box.center
