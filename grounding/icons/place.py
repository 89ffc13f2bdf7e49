"""Grounding an instruction that finds its target by place or order (see `grounding.ocr.relation`).

The anchor is found as text (OCR, the literal matcher); the candidates are the screen's text segments (runs of
words with no wide gap, so a row of tabs that OCR read as one line still gives one candidate per tab) and, for
targets that may have no text of their own (check boxes, fields, buttons, icons, symbols), the icon-like regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grounding.geometry import Box, Point
from grounding.ocr.engine import Line, Page
from grounding.ocr.instruction import parse
from grounding.ocr.match import candidates as text_matches
from grounding.ocr.match import segments
from grounding.ocr.rank import rank
from grounding.ocr.relation import Relation, belonging, beside, between, nth, on_row, sequences, under

# Roles whose controls may carry no text, so icon-like regions are candidates too.
_MARKS = {"checkbox", "radio", "switch", "button", "icon", "input", "dropdown", "symbol", "sign", "tool", "control",
          "field", "box", "mark", "arrow", "image", "picture"}
# Roles that are laid out in a row (tabs, menus, buttons, column headers); the rest are counted down a column.
_ROW_ROLES = {"tab", "menu", "button", "column", "header", "sign", "symbol"}
_FIELDS = {"input", "field", "box", "dropdown"}
MIN_ANCHOR = 0.8  # an anchor must be read about as written
MENU_BAR = 0.04  # the top this fraction of a screen is where a menu bar runs
SCORE = 0.8  # a relation answer's score: below an exact text hit, above any icon guess


@dataclass(frozen=True)
class Answer:
    point: Point
    box: Box | None
    anchor: Box | None
    note: str


def anchor_box(text: str, lines: Sequence[Line], size: tuple[int, int]) -> Box | None:
    query = parse(text)
    ranked = rank(query, text_matches(query.target, lines), size)
    if not ranked or ranked[0].candidate.similarity < MIN_ANCHOR:
        return None
    return ranked[0].candidate.box


def _role(target: str) -> tuple[str, str]:
    """("Save button" -> ("Save", "button")): the words left once the role noun goes, and the role noun."""
    words = target.split()
    noun = words[-1].lower() if words else ""
    query = parse(target)
    label = query.target if query.target.lower() != target.lower() else " ".join(words[:-1])
    return label.strip(), query.role or noun


def locate(relation: Relation, page: Page, regions: Sequence[Box], pixels: np.ndarray) -> Answer | None:
    """The point the relation names on an RGB array, or None when its anchor is not on screen or nothing stands in
    that place."""
    size = (pixels.shape[1], pixels.shape[0])
    label, role = _role(relation.target)
    # Stray glyphs OCR reads off check marks and icons ("口", "√") are no one's text.
    texts = [s.box for s in segments(page.lines) if sum(c.isalnum() for c in s.text) >= 2 or s.confidence >= 0.9]
    pool = texts + list(regions) if role in _MARKS or not texts else texts
    if relation.kind == "order":
        return _ordinal(relation, label, role, pool, page, size)
    anchor = anchor_box(relation.anchor or "", page.lines, size)
    if anchor is None:
        return None
    # A target that names its label ("the Remove button under the dog bed", "the “Add to Cart” button for the cat
    # toy") is one of that label's places on screen; without any, the label may be an icon's tooltip.
    named = _named(label, page, size, whole=relation.kind != "inside") if label else []
    if relation.kind == "between":
        other = anchor_box(relation.anchor2 or "", page.lines, size)
        found = between(anchor, other, pool) if other is not None else None
    elif relation.kind == "inside":
        found = _inside(anchor, named, pool, size)
    elif relation.kind == "of":
        found = belonging(anchor, named)
    elif relation.kind == "row":
        found = _in_row(anchor, relation.target, role, named, pool, page, pixels)
    else:
        found = (beside(anchor, named, relation.kind) if named else None) or beside(anchor, pool, relation.kind)
    if role in _FIELDS and relation.kind in ("right", "below") and not _adjacent(anchor, found, relation.kind):
        # An empty field has nothing to read and is too wide for an icon region: it starts just past its caption
        # (the next text further on is the caption of another field).
        h = anchor.height
        point = Point(anchor.x2 + 2 * h, anchor.center.y) if relation.kind == "right" else \
            Point(anchor.x1 + 2 * h, anchor.y2 + 0.9 * h)
        return Answer(point, None, anchor, f"{relation.kind} of the anchor, where an empty field starts")
    if found is None:
        return None
    return Answer(found.center, found, anchor, f"{relation.kind} of the anchor")


def _adjacent(anchor: Box, found: Box | None, side: str) -> bool:
    if found is None:
        return False
    gap = found.x1 - anchor.x2 if side == "right" else found.y1 - anchor.y2
    return gap <= 1.5 * anchor.height


def _named(label: str, page: Page, size: tuple[int, int], whole: bool = True) -> list[Box]:
    """Where the label is read on screen, best match first; `whole`: only matches with no other words."""
    query = parse(label)
    return [r.candidate.box for r in rank(query, text_matches(query.target, page.lines), size)
            if r.candidate.similarity >= MIN_ANCHOR and (r.candidate.extra_words == 0 or not whole)]


def _ordinal(relation: Relation, label: str, role: str, pool: list[Box], page: Page,
             size: tuple[int, int]) -> Answer | None:
    if label:
        # "the second Save button": the label's own matches, in reading order.
        hits = _named(label, page, size)
        if len(hits) >= 2:
            ordered = sorted(hits, key=lambda b: (round(b.center.y / max(1.0, b.height)), b.x1))
            found = nth(ordered, relation.ordinal or 1)
            return Answer(found.center, found, None, "by order among the label's matches") if found else None
    horizontal = role in _ROW_ROLES
    runs = sequences(pool, horizontal)
    if role != "menu":  # tabs, buttons and lists lie below the menu bar, whose row would otherwise count first
        runs = [run for run in runs if Box.union_of(run).center.y > MENU_BAR * size[1]] or runs
    scope = _scope_box(relation.scope, page, size)
    if scope is not None:
        runs = [run for run in runs if _near_scope(run, scope, size)] or runs
    if not runs:
        return None
    run = max(runs, key=lambda r: (len(r), -(r[0].y1 if horizontal else r[0].x1)))
    found = nth(run, relation.ordinal or 1)
    return Answer(found.center, found, scope, f"item {relation.ordinal} of a run of {len(run)}") if found else None


def _scope_box(scope: str | None, page: Page, size: tuple[int, int]) -> Box | None:
    if not scope:
        return None
    if "menu bar" in scope.lower():
        return Box(0, 0, size[0], max(1.0, size[1] * 2 * MENU_BAR))
    words = scope.split()
    name = " ".join(words[:-1]) if len(words) > 1 else scope
    return anchor_box(name, page.lines, size)


def _near_scope(run: list[Box], scope: Box, size: tuple[int, int]) -> bool:
    union = Box.union_of(run)
    if scope.y1 == 0 and scope.x1 == 0 and scope.width == size[0]:  # the menu bar strip
        return union.center.y <= scope.y2
    # A dialog's title names it; its controls lie below it, within a screen-third sideways.
    return union.y1 >= scope.y1 - scope.height and abs(union.center.x - scope.center.x) <= size[0] / 3


def _inside(anchor: Box, named: list[Box], pool: list[Box], size: tuple[int, int]) -> Box | None:
    """"the close button of the Find dialog": on the title's row, the control named by the label, else the
    farthest one to the right (title bars end with their close button)."""
    row = [b for b in pool if b.x1 >= anchor.x2 and min(b.y2, anchor.y2) - max(b.y1, anchor.y1) > 0.3 * anchor.height]
    for box in named:
        if any(box.iou(b) > 0.3 for b in row):
            return box
    near = [b for b in row if b.x1 - anchor.x2 <= size[0] / 2]
    return max(near, key=lambda b: b.x2) if near else None


def _in_row(anchor: Box, target: str, role: str, named: list[Box], pool: list[Box], page: Page,
            pixels: np.ndarray) -> Box | None:
    """"the Delete link in the row of Ada": the label's place on the anchor's row; "the email in the row of Ada":
    the row's cell under the column the target's words head; "the checkbox in the row of config.yaml": the row's
    control that looks most like one; else the row's box nearest the anchor."""
    if named:
        return next(iter(on_row(anchor, named)), None)
    row = on_row(anchor, pool)
    size = (pixels.shape[1], pixels.shape[0])
    for header in _named(target, page, size):
        if header.y2 <= anchor.y1 and (cells := under(header, row)):
            return cells[0]
    if not row:
        return None
    return _most_like(pixels, row, target) if role in _MARKS else row[0]


def _most_like(pixels: np.ndarray, boxes: list[Box], target: str) -> Box:
    """Of boxes nearest first, the one the icon model finds most like the target's words ("checkbox", "trash
    icon"): a table row holds several small controls and icons (a row's check box, then its file-type icon), and
    which one is meant is what it pictures. The nearest when the model knows none of the words."""
    from . import model
    from .crops import PAD, cut, square

    icon_model = model.load()
    if not icon_model.words(target):
        return boxes[0]
    crops = cut(pixels, [square(b.center.x, b.center.y, max(b.width, b.height) * PAD) for b in boxes])
    return boxes[int(np.argmax(icon_model.similarity(crops, target)))]


def regions_for(image: np.ndarray, exclude: Sequence[Box]) -> list[Box]:
    from .proposals import propose

    return propose(image, exclude)
