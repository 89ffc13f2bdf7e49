"""Which element an instruction means: the OCR grounder's instruction parser (label, role, area) over the names,
texts, descriptions and roles the tree publishes, scored with the same fuzzy label similarity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grounding.geometry import Box
from grounding.ocr.instruction import Query, parse
from grounding.ocr.match import normalize, similarity

from .element import Element

# How much each published string counts: the name is what the control says; a field's text is what it holds; a
# description (tooltip) only describes.
_FIELDS = (("name", 1.0), ("text", 0.97), ("description", 0.9))
_WRONG_ROLE = 0.85  # the instruction names another role ("the Save button" vs a label "Save")
_CONTAINER = 0.9  # frames, panels, tool bars: a control with the same name is meant first
_PLAIN_LABEL = 0.97  # no role asked: a control beats static text with the same words
_WRONG_AREA = 0.9


@dataclass(frozen=True)
class Match:
    element: Element
    score: float  # [0, 1]
    field: str  # which string matched: name, text or description

    def to_dict(self) -> dict:
        return {"role": self.element.role, "name": self.element.label, "score": round(self.score, 4),
                "field": self.field, "box": (self.element.image_box or self.element.box).to_list()}


def rank(elements: Sequence[Element], instruction: str, image_size: tuple[int, int] | None = None) -> list[Match]:
    """Every element that matches at all, best first (ties keep the walk's order: active window first)."""
    query = parse(instruction)
    target = normalize(query.target)
    if not target:
        return []
    matches = []
    for element in elements:
        field, text_score = _best_field(element, target)
        if text_score <= 0:
            continue
        score = text_score * _role_factor(query, element) * _area_factor(query, element, image_size)
        matches.append(Match(element, min(score, 1.0), field))
    matches.sort(key=lambda m: -m.score)
    return matches


def _best_field(element: Element, target: str) -> tuple[str, float]:
    best = ("", 0.0)
    for field, weight in _FIELDS:
        value = normalize(getattr(element, field))
        if not value:
            continue
        score = _label_similarity(target, value) * weight
        if score > best[1]:
            best = (field, score)
    return best


def _label_similarity(target: str, label: str) -> float:
    """Fuzzy equality, plus a label that starts with the target and then only adds a shortcut or a detail
    ("Bold (Ctrl+B)", "Save As..." for "Save As") scores a little under an exact name."""
    score = similarity(target, label)
    if label.startswith(target + " ") and len(target) >= 3:
        extra = len(label) - len(target)
        score = max(score, 0.92 - min(extra, 40) / 400)
    return score


def _role_factor(query: Query, element: Element) -> float:
    if not element.kinds:
        return _CONTAINER
    if query.role is None:
        return _PLAIN_LABEL if element.kinds == ("label",) else 1.0
    return 1.0 if query.role in element.kinds else _WRONG_ROLE


def _area_factor(query: Query, element: Element, image_size: tuple[int, int] | None) -> float:
    area = query.area
    if area is None:
        return 1.0
    if area == "menu bar":
        return 1.0 if "menu" in element.kinds else _WRONG_AREA
    if area == "open menu":
        return 1.0 if "menu item" in element.kinds else _WRONG_AREA
    box = element.image_box if image_size else None
    if box is None:
        return 1.0
    return 1.0 if _in_area(area, box, image_size) else _WRONG_AREA


def _in_area(area: str, box: Box, size: tuple[int, int]) -> bool:
    x, y = box.center.x / size[0], box.center.y / size[1]
    checks = {"top": y < 0.5, "bottom": y >= 0.5, "left": x < 0.5, "right": x >= 0.5}
    return all(checks.get(word, True) for word in area.split())
