"""The `offline` grounder: text when the instruction's words are on screen, otherwise the icon that depicts them.

The OCR grounder reads the screen once (cached per image); its words both answer text targets and are kept out of
the icon search, so words never pose as icons and nothing is read twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
from PIL import Image

from grounding.base import BaseGrounder
from grounding.errors import OptionError
from grounding.geometry import Box
from grounding.ocr import meaning
from grounding.ocr.engine import Page
from grounding.ocr.grounder import OcrGrounder
from grounding.ocr.instruction import parse
from grounding.ocr.relation import Relation, parse_relation
from grounding.types import Grounder, Prediction, Stopwatch, TraceStep

from . import place
from .grounder import IconGrounder, prediction, score_of


def words_on_screen(page: Page) -> list[Box]:
    """Boxes of words OCR read with confidence: what is surely text. OCR also reads rows of icons as junk "text"
    (single symbols, low confidence), and those must stay searchable; a two-character word ("re", "N/A") counts as
    text only when read very confidently (on the dev set such fragments otherwise outranked icons)."""
    return [
        word.box
        for line in page.lines
        for word in line.words
        if ((alnum := sum(c.isalnum() for c in word.text)) >= 3 and line.confidence >= 0.75)
        or (alnum == 2 and line.confidence >= 0.9)
    ]


_ICON_FOR = re.compile(r"\bicons?\s+(?:to|that|which|for)\b", re.IGNORECASE)


class OfflineGrounder(BaseGrounder):
    name = "offline"

    # 0.85: on the dev set every OCR match scoring below it was wrong (without zoom: 8 text and 215 icon targets below
    # 0.8, 9 icon targets in 0.80-0.85, such as "Text Body" for "Text Box" or code's "compile" for Geany's Compile
    # button, while the 23 text matches from 0.85 to 0.95 were all right), so such instructions go to the icon search.
    # `refine` (the zoom loop with load's setting, on by default) is applied to the text side: its narrowing re-reads
    # words magnified where the reading is fuzzy or ambiguous. The icon search runs only when no text matched;
    # matching by meaning (`meaning`, on by default) then competes with it on calibrated scores.
    def __init__(
        self, *, min_text_score: float = 0.85, min_icon_score: float = 0.0, det_limit: int = 1920,
        meaning: bool = True, places: bool = True, refine: Callable[[Grounder], Grounder] | None = None,
    ) -> None:
        for key, value in (("min_text_score", min_text_score), ("min_icon_score", min_icon_score)):
            if not 0.0 <= value <= 1.0:
                raise OptionError(f"{key} must lie in [0, 1], got {value}")
        for key, value in (("meaning", meaning), ("places", places)):
            if not isinstance(value, bool):
                raise OptionError(f"{key} must be true or false, got {value!r}")
        self.min_text_score = min_text_score
        self.min_icon_score = min_icon_score
        self.meaning = meaning
        self.places = places
        text = OcrGrounder(det_limit=det_limit, min_score=min_text_score)
        self.text = refine(text) if refine else text
        self.icons = IconGrounder(min_score=min_icon_score, meaning=meaning)

    @property
    def revision(self) -> str:
        return self.icons.revision

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        relation = parse_relation(instruction) if self.places else None
        if relation is not None:
            placed = self._by_place(image, relation)
            if placed is not None:
                return placed
        text = self.text.locate(image, instruction)
        if text.found:
            return self._text_answer(image, instruction, text)
        page = self.text.read(image)
        with Stopwatch() as icon_watch:
            found = self.icons.search(image, instruction, exclude=words_on_screen(page))
        with Stopwatch() as meaning_watch:
            # An instruction that asks for an icon ("the Save icon", "the icon to upload files", "点击“保存”图标") is
            # not after a text.
            asks_icon = parse(instruction).role == "icon" or bool(_ICON_FOR.search(instruction))
            wanted = self.meaning and not asks_icon
            readings = meaning.nearest(instruction, page.lines, image.size) if wanted else []
        timing = {"text_score": round(text.score, 4), "icon_s": round(icon_watch.elapsed, 4),
                  "meaning_s": round(meaning_watch.elapsed, 4)}
        icon_score = score_of(found.best.similarity) if found.best else 0.0
        best = readings[0].cosine if readings else 0.0
        offered = bool(readings) and best >= meaning.floor_for(instruction, readings[0].piece.text)
        if offered and meaning.score_of(best) > max(icon_score, self.min_icon_score):
            return _meaning_answer(readings, timing)
        return prediction(found, self.min_icon_score, **timing,
                          meaning=[r.to_dict() for r in readings[:3]])

    def _by_place(self, image: Image.Image, relation: Relation) -> Prediction | None:
        """The target a place-or-order instruction names, or None (then the instruction is grounded as words)."""
        page = self.text.read(image)
        pixels = np.asarray(image)
        answer = place.locate(relation, page, place.regions_for(pixels, words_on_screen(page)), pixels)
        if answer is None:
            return None
        raw = json.dumps({"relation": relation.kind, "target": relation.target, "anchor": relation.anchor})
        step = TraceStep("place", None, raw=raw, point=answer.point, score=place.SCORE, note=answer.note)
        return Prediction(
            point=answer.point, box=answer.box, score=place.SCORE, raw=raw, trace=(step,),
            extra={"source": "place", "relation": relation.kind, "target": relation.target,
                   "anchor": answer.anchor.to_list() if answer.anchor else None},
        )

    def _text_answer(self, image: Image.Image, instruction: str, text: Prediction) -> Prediction:
        """The matched words, or the check box / switch beside them when the instruction asks for one."""
        from .beside import control_beside, names_a_toggle  # OpenCV loads on use, not when grounders are listed

        label = text.box
        if label is None or not names_a_toggle(instruction, parse(instruction).role):
            return text.with_(extra={**text.extra, "source": "text"})
        control = control_beside(np.asarray(image), label, words_on_screen(self.text.read(image)))
        if control is None:
            return text.with_(extra={**text.extra, "source": "text"})
        step = TraceStep("control", None, raw=text.raw, point=control.center, score=text.score,
                         note=f"the control beside the label at {label.to_list()}")
        return text.with_(
            point=control.center, box=control, trace=(*text.trace, step),
            extra={**text.extra, "source": "text+control", "label": label.to_list()},
        )


def _meaning_answer(readings: list, timing: dict) -> Prediction:
    best = readings[0]
    score = meaning.score_of(best.cosine)
    point = best.piece.box.center
    raw = json.dumps({"meaning": best.piece.text, "cosine": round(best.cosine, 4)}, ensure_ascii=False)
    step = TraceStep("full", None, raw=raw, point=point, score=score, note=f"nearest in meaning: {best.piece.text!r}")
    return Prediction(
        point=point, box=best.piece.box, score=score, raw=raw, trace=(step,),
        extra={"source": "meaning", "matched": best.piece.text, "meaning": [r.to_dict() for r in readings[:3]],
               **timing},
    )
