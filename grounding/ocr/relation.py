"""Instructions that find a target by its place or order: "the field below Name", "the checkbox left of 'Remember
me'", "the second Save button", "the close button of the Find dialog", "the RMB symbol before 118", and by what it
belongs to: "the “Add to Cart” button for the cat toy", "the checkbox in the row of config.yaml".

`parse_relation` splits such an instruction into what is sought (a role or a description), the anchor(s) it is
placed against and the relation; `choose` then picks, among candidate boxes on screen, the one that stands in that
relation to the anchor's box. Grounding the anchor and proposing candidates is the caller's job (text from OCR,
regions from the icon proposals), so this module is plain geometry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from grounding.geometry import Box

from .instruction import act_of

_VERB = (r"(?:(?:please\s+)?(?:click(?: on)?|double[- ]click|right[- ]click|press|tap|select|choose|pick|open|"
         r"go to|switch to|focus(?: on)?|tick|check|uncheck|toggle|hover over|use|type into|type in)\s+)?")
_ARTICLE = r"(?:the\s+|a\s+|an\s+)?"
# The same, remembering whether the target opened with one ("the delete button" is a thing, "delete a row" an act).
_TARGET_ARTICLE = r"(?P<article>the\s+|a\s+|an\s+)?"
_SIDES = {
    "below": "below", "under": "below", "underneath": "below", "beneath": "below",
    "above": "above",
    "right of": "right", "to the right of": "right", "on the right of": "right",
    "left of": "left", "to the left of": "left", "on the left of": "left",
    "next to": "after", "beside": "after", "after": "after", "following": "after", "behind": "after",
    "before": "before", "preceding": "before", "in front of": "before",
}
_SIDE_WORDS = "|".join(sorted((re.escape(k) for k in _SIDES), key=len, reverse=True))
_ADVERB = r"(?:(?:just|directly|immediately|right|straight)\s+)?"
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
    "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8, "last": -1,
    "second-to-last": -2, "second to last": -2, "next-to-last": -2,
}
_ORDINAL_WORDS = "|".join(sorted((re.escape(k) for k in _ORDINALS), key=len, reverse=True))
_CONTAINERS = r"dialog|window|panel|pane|popup|pop-up|form|toolbar|tool bar|section|menu bar|list|table|toolbox"
_INSIDE = r"dialog|window|panel|pane|popup|pop-up|form|toolbar|section"
# "the Edit link in the row of Alice", "the checkbox on the same row as config.yaml".
_ROW = r"(?:in|on)\s+(?:the\s+)?(?:same\s+)?(?:row|line)\s+(?:of|with|for|as)"
# "the “Add to Cart” button for the cat toy", "the Edit link of Alice": a labelled control that several items repeat.
_BELONGS = r"for|of|belonging to"
# A relation's target is a thing ("the checkbox", "the second Save button", "the RMB symbol"), never an action
# ("add a cell before this one"), and its anchor is something drawn, never a pronoun or a bare role noun.
_THINGS = frozenset("""button buttons checkbox box field input tab item entry option menu submenu file folder icon link
column header heading row cell tool symbol sign user username place control radio switch dropdown label value number
one text line image picture arrow mark thing element""".split())
_ACTIONS = frozenset("""add insert make show jump combine put see move create delete remove run go set change turn start
stop type enter drag""".split())
_NOT_ANCHORS = frozenset(["it", "this", "that", "them", "one", "this one", "that one", "the one", "here", "there",
                          "button", "icon", "field", "box", "menu", "tab", "item"])

# Chinese: "“名称”下方的输入框", "“取消”左边的按钮", "第二个“保存”按钮", "最后一个标签页".
_CJK_SIDES = {"下方": "below", "下面": "below", "之下": "below", "上方": "above", "上面": "above", "之上": "above",
              "右侧": "right", "右边": "right", "右面": "right", "左侧": "left", "左边": "left", "左面": "left",
              "后面": "after", "之后": "after", "前面": "before", "之前": "before"}
_CJK_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}


@dataclass(frozen=True)
class Relation:
    """What is sought (`target`: role words or a label), against what (`anchor`, `anchor2` for "between"), how."""

    target: str
    kind: str  # below | above | right | left | after | before | between | order | inside | row | of
    anchor: str | None = None
    anchor2: str | None = None
    ordinal: int | None = None  # 1-based; -1 the last, -2 the one before it
    scope: str | None = None  # "the menu bar", "the Character dialog": where an ordinal counts


def _clean(text: str) -> str:
    return text.strip(" .,!?;:\"'\u201c\u201d\u2018\u2019")


def _clean_target(text: str) -> str:
    """A target keeps its quotes: in "“Add to Cart” button" they mark where the label ends."""
    return text.strip(" .,!?;:")


def parse_relation(instruction: str) -> Relation | None:
    """The relation an instruction states, or None for an instruction that names its target directly."""
    # The act of a task-style instruction: "Combine this cell with the one before it by clicking 'Merge Cell Above'"
    # places nothing.
    text = act_of(" ".join(instruction.split())).rstrip(" .!?")
    cjk = _parse_cjk(text)
    if cjk is not None:
        return cjk
    head = rf"^{_VERB}{_TARGET_ARTICLE}"
    found = re.match(rf"{head}(?P<target>.+?)\s+between\s+{_ARTICLE}(?P<a>.+?)\s+and\s+{_ARTICLE}(?P<b>.+)$", text,
                     re.IGNORECASE)
    if found and _plausible(found, found["a"]) and _plausible(found, found["b"]):
        return Relation(_clean_target(found["target"]), "between", _clean(found["a"]), _clean(found["b"]))
    found = re.match(rf"{head}(?P<ord>{_ORDINAL_WORDS})\s+(?P<target>.+?)"
                     rf"(?:\s+(?:in|of|on|from)\s+{_ARTICLE}(?P<scope>.+))?$", text, re.IGNORECASE)
    if found and _plausible(found):
        return Relation(_clean_target(found["target"]), "order", ordinal=_ORDINALS[found["ord"].lower()],
                        scope=_clean(found["scope"]) if found["scope"] else None)
    found = re.match(rf"{head}(?P<target>.+?)\s+{_ADVERB}(?P<side>{_SIDE_WORDS})\s+{_ARTICLE}(?P<anchor>\S.*)$", text,
                     re.IGNORECASE)
    if found:
        anchor, _ = _split_scope(found["anchor"])
        if _plausible(found, anchor):
            return Relation(_clean_target(found["target"]), _SIDES[found["side"].lower()], _clean(anchor))
    found = re.match(rf"{head}(?P<target>.+?)\s+(?:of|in|on)\s+(?:the\s+)(?P<anchor>\S.*?)\s+(?:{_INSIDE})$", text,
                     re.IGNORECASE)
    if found and _plausible(found, found["anchor"]):
        return Relation(_clean_target(found["target"]), "inside", _clean(found["anchor"]))
    found = re.match(rf"{head}(?P<target>.+?)\s+{_ROW}\s+{_ARTICLE}(?P<anchor>\S.*)$", text, re.IGNORECASE)
    # Any thing may sit in a row ("the email in the row of Ada": a cell under its column's header).
    if found and _plausible(found, found["anchor"], any_thing=bool(found["article"])):
        return Relation(_clean_target(found["target"]), "row", _clean(found["anchor"]))
    found = re.match(rf"{head}(?P<target>.+?)\s+(?:{_BELONGS})\s+{_ARTICLE}(?P<anchor>\S.*)$", text, re.IGNORECASE)
    if found and _plausible(found, found["anchor"]) and _labelled(found["target"]):
        return Relation(_clean_target(found["target"]), "of", _clean(found["anchor"]))
    return None


def _plausible(found: re.Match, anchor: str | None = None, any_thing: bool = False) -> bool:
    words = re.findall(r"[\w-]+", found["target"])
    # A lower-case action word opens an imperative ("add a cell before this one") unless an article makes it a
    # thing's name ("the delete button next to report.pdf"); "the Delete button" is a label.
    if not words or (words[0] in _ACTIONS and not found["article"]):
        return False
    if not any_thing and words[-1].lower() not in _THINGS:
        return False
    return anchor is None or _clean(anchor).lower() not in _NOT_ANCHORS and bool(re.search(r"\w", anchor))


def _labelled(target: str) -> bool:
    """Whether a target names its label before its role noun, quoted or capitalised ("“Add to Cart” button", "Edit
    link"); "plus sign for creating a new buyer" describes a control, it does not say which of many it is."""
    words = target.split()
    return len(words) >= 2 and (words[0][:1].isupper() or words[0][:1] in "'\"\u201c\u2018")


def _split_scope(anchor: str) -> tuple[str, str | None]:
    """"'Find' in the Replace dialog" -> ("'Find'", "Replace dialog")."""
    found = re.match(rf"(?P<anchor>.+?)\s+(?:in|of|on)\s+{_ARTICLE}(?P<scope>.+?\s+(?:{_CONTAINERS}))$", anchor,
                     re.IGNORECASE)
    return (found["anchor"], found["scope"]) if found else (anchor, None)


# A polite word and one verb may open a Chinese instruction ("请点击...").
_CJK_VERB = r"^(?:请)?(?:点击|单击|选择|打开|勾选)?"


def _parse_cjk(text: str) -> Relation | None:
    sides = "|".join(_CJK_SIDES)
    found = re.match(rf"{_CJK_VERB}(?P<anchor>.+?)(?:的)?(?P<side>{sides})的?(?P<target>.+)$", text)
    if found and found["anchor"] and found["target"]:
        return Relation(found["target"].strip(), _CJK_SIDES[found["side"]], _clean(found["anchor"]))
    numbers = "".join(_CJK_NUMBERS)
    found = re.match(rf"{_CJK_VERB}(?:第(?P<n>[{numbers}\d]+)|(?P<last>最后))一?个?(?P<target>.+)$", text)
    if found and found["target"]:
        n = found["n"]
        ordinal = -1 if found["last"] else (int(n) if n and n.isdigit() else _CJK_NUMBERS.get(n or "", 0))
        if ordinal:
            return Relation(found["target"].strip(), "order", ordinal=ordinal)
    return None


# ---- geometry ------------------------------------------------------------------------------------------------------

def _row_overlap(a: Box, b: Box) -> float:
    return (min(a.y2, b.y2) - max(a.y1, b.y1)) / max(1.0, min(a.height, b.height))


def _column_overlap(a: Box, b: Box) -> float:
    return (min(a.x2, b.x2) - max(a.x1, b.x1)) / max(1.0, min(a.width, b.width))


def beside(anchor: Box, candidates: list[Box], side: str) -> Box | None:
    """The candidate nearest to the anchor on that side: on its row for left/right, in its column for above/below;
    "after"/"before" read like text (on the row, else the next line down/up)."""
    if side in ("after", "before"):
        return beside(anchor, candidates, "right" if side == "after" else "left") or \
            beside(anchor, candidates, "below" if side == "after" else "above")
    h = anchor.height
    best, best_gap = None, None
    for box in candidates:
        if box.iou(anchor) > 0.3 or box.contains(anchor.center):
            continue
        if side in ("right", "left"):
            if _row_overlap(anchor, box) < 0.4:
                continue
            gap = box.x1 - anchor.x2 if side == "right" else anchor.x1 - box.x2
        else:
            aligned = _column_overlap(anchor, box) > 0.3 or abs(box.x1 - anchor.x1) < 1.5 * h
            if not aligned:
                continue
            gap = box.y1 - anchor.y2 if side == "below" else anchor.y1 - box.y2
        if gap < -0.5 * h:
            continue
        if side in ("below", "above"):
            # Down a list the next item starts where the anchor starts; a mark or a stray glyph beside it does not.
            gap += 0.5 * min(abs(box.x1 - anchor.x1), abs(box.center.x - anchor.center.x))
        if best_gap is None or gap < best_gap:
            best, best_gap = box, gap
    return best


def _distance(anchor: Box, box: Box) -> float:
    """How far a box lies from the anchor across the item they would share: the gap sideways, and the offset of the
    centres down (none on the anchor's row). An item's controls follow its name, below it or on its row, so a box
    above counts double: in a list whose items stack name, then button, the button just above an item's name
    belongs to the item before it."""
    dx = max(0.0, box.x1 - anchor.x2, anchor.x1 - box.x2)
    dy = 0.0 if _row_overlap(anchor, box) >= 0.4 else box.center.y - anchor.center.y
    return math.hypot(dx, dy if dy >= 0 else 2 * dy)


def belonging(anchor: Box, candidates: list[Box]) -> Box | None:
    """The candidate of the anchor's own item (its card in a grid, its row in a table): the nearest by
    `_distance`, outside the anchor."""
    outside = [box for box in candidates if box.iou(anchor) <= 0.3 and not box.contains(anchor.center)]
    return min(outside, key=lambda box: _distance(anchor, box)) if outside else None


def under(header: Box, candidates: list[Box]) -> list[Box]:
    """The candidates in a column header's column."""
    return [box for box in candidates if _column_overlap(header, box) > 0.3]


def on_row(anchor: Box, candidates: list[Box]) -> list[Box]:
    """The candidates on the anchor's row (outside it), nearest first."""
    row = [box for box in candidates if _row_overlap(anchor, box) >= 0.4 and box.iou(anchor) <= 0.3
           and not box.contains(anchor.center)]
    return sorted(row, key=lambda box: _distance(anchor, box))


def between(a: Box, b: Box, candidates: list[Box]) -> Box | None:
    """The candidate nearest the middle of the stretch from a to b, strictly inside it."""
    horizontal = abs(b.center.x - a.center.x) >= abs(b.center.y - a.center.y)
    lo, hi = sorted((a, b), key=lambda box: box.center.x if horizontal else box.center.y)
    middle = (lo.center.x + hi.center.x) / 2 if horizontal else (lo.center.y + hi.center.y) / 2
    inside = []
    for box in candidates:
        if box.iou(a) > 0.3 or box.iou(b) > 0.3:
            continue
        if horizontal:
            if box.center.x > lo.x2 - 1 and box.center.x < hi.x1 + 1 and _row_overlap(lo, box) >= 0.4:
                inside.append((abs(box.center.x - middle), box))
        elif box.center.y > lo.y2 - 1 and box.center.y < hi.y1 + 1 and \
                (_column_overlap(lo, box) > 0.3 or abs(box.x1 - lo.x1) < 1.5 * lo.height):
            inside.append((abs(box.center.y - middle), box))
    return min(inside, key=lambda item: item[0])[1] if inside else None


def sequences(boxes: list[Box], horizontal: bool) -> list[list[Box]]:
    """Runs of boxes of about one height, lined up in a row (horizontal) or a left-aligned column, in order."""
    runs: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.x1, b.y1) if horizontal else (b.y1, b.x1)):
        for run in runs:
            last = run[-1]
            same_size = abs(box.height - last.height) <= 0.35 * max(box.height, last.height)
            if horizontal:
                # Column headers and toolbar buttons may stand far apart; the row and the size hold them together.
                fits_run = same_size and _row_overlap(last, box) >= 0.6 and 0 <= box.x1 - last.x2 <= 15 * last.height
            else:
                fits_run = same_size and abs(box.x1 - last.x1) <= 0.6 * last.height and \
                    0 <= box.y1 - last.y2 <= 1.2 * last.height
            if fits_run:
                run.append(box)
                break
        else:
            runs.append([box])
    return [run for run in runs if len(run) >= 2]


def nth(run: list[Box], ordinal: int) -> Box | None:
    index = ordinal - 1 if ordinal > 0 else len(run) + ordinal
    return run[index] if 0 <= index < len(run) else None
