"""Ordering the matches: exact over fuzzy, a whole control over a piece of a longer line, then role and area hints.

The hints only move a candidate by a few hundredths, so they break ties between equally good readings (the same
word in the menu bar and in an open menu) without overruling a clearly better text match.
"""

from __future__ import annotations

from dataclasses import dataclass

from .instruction import Query
from .match import Candidate

# Per word of the surrounding line that the span leaves out, up to _MAX_EXTRA words.
_EXTRA_WORD_PENALTY = 0.04
_MAX_EXTRA = 5
_HINT_WEIGHT = 0.06


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float  # in [0, 1]


def rank(query: Query, found: list[Candidate], size: tuple[int, int]) -> list[Ranked]:
    width, height = size
    ranked = []
    for candidate in found:
        score = candidate.similarity
        score -= _EXTRA_WORD_PENALTY * min(candidate.extra_words, _MAX_EXTRA)
        score += 0.01 if candidate.exact_case else 0.0
        score += _HINT_WEIGHT * _place_fit(query, candidate, width, height)
        ranked.append(Ranked(candidate, min(1.0, max(0.0, score))))
    ranked.sort(key=lambda r: (r.score, r.candidate.similarity, -r.candidate.box.y1, -r.candidate.box.x1), reverse=True)
    return ranked


def _place_fit(query: Query, candidate: Candidate, width: int, height: int) -> float:
    """How well the candidate's place fits the role and area hints, in [-1, 1]; 0 when nothing is said."""
    centre = candidate.box.center
    x, y = centre.x / width, centre.y / height
    area = query.area
    if area is None and query.role == "menu":
        area = "menu bar"
    if area is None and query.role in ("menu item", "submenu"):
        area = "open menu"
    if area == "menu bar":
        return 1.0 - 2.0 * y  # menu bars sit at the top of a window
    if area == "open menu":
        return min(1.0, 4.0 * y) - 0.5  # an open menu hangs below the bar that opened it
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
