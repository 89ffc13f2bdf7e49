"""The `ocr` grounder: read the screen's text once, find the instruction's words in it, click their centre."""

from __future__ import annotations

import json
from dataclasses import replace

from PIL import Image

from grounding.errors import OptionError
from grounding.inputs import image_key, prepare
from grounding.types import Prediction, Stopwatch, TraceStep

from . import engine
from .cache import PageCache
from .instruction import parse
from .match import best_per_place, candidates
from .rank import click_point, rank

# One cache for every OcrGrounder in the process: eval builds one grounder per worker thread.
_CACHE = PageCache()


class OcrGrounder:
    """Text grounding with RapidOCR (PP-OCR) on the CPU; icons without visible text come back not_found."""

    name = "ocr"

    def __init__(self, *, min_score: float = 0.6, det_limit: int = 1920, candidates: int = 5) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise OptionError(f"min_score must lie in [0, 1], got {min_score}")
        if not isinstance(det_limit, int) or det_limit < 320:
            raise OptionError(f"det_limit must be an integer of at least 320 pixels, got {det_limit!r}")
        if not isinstance(candidates, int) or candidates < 1:
            raise OptionError(f"candidates must be a positive integer, got {candidates!r}")
        self.min_score = min_score
        self.det_limit = det_limit
        self.candidates = candidates

    def read(self, image: Image.Image) -> engine.Page:
        """The screen's text lines and words with their boxes (cached per image), for reuse by other grounders."""
        page, _ = self._read(prepare(image, "read")[0])
        return page

    def _read(self, image: Image.Image) -> tuple[engine.Page, bool]:
        key = f"{image_key(image)}-det{self.det_limit}"
        return _CACHE.get_or_compute(key, lambda: engine.read(image, self.det_limit))

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        with Stopwatch() as watch:
            image, instruction = prepare(image, instruction)
            page, cached = self._read(image)
            query = parse(instruction)
            ranked = rank(query, candidates(query.target, page.lines), image.size)
        places = best_per_place((r.candidate for r in ranked), self.candidates)
        extra = {
            "target": query.target,
            "role": query.role,
            "area": query.area,
            "ocr_cached": cached,
            "candidates": [c.to_dict() for c in places],
        }
        raw = json.dumps({"target": query.target, "matched": places[0].text if places else None})
        step = TraceStep("full", None, raw=raw, note=f"{len(page.lines)} text lines")
        if not ranked or ranked[0].score < self.min_score:
            score = ranked[0].score if ranked else 0.0
            return Prediction.not_found(
                raw, score=min(score, self.min_score), elapsed_s=watch.elapsed, trace=(step,), extra=extra
            )
        best = ranked[0]
        point = click_point(query, best.candidate, image.size)
        return Prediction(
            point=point,
            box=best.candidate.box if best.candidate.box.contains(point) else None,
            score=best.score,
            raw=raw,
            elapsed_s=watch.elapsed,
            trace=(replace(step, point=point, score=best.score),),
            extra={**extra, "matched": best.candidate.text},
        )
