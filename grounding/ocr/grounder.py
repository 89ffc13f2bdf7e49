"""The `ocr` grounder: read the screen's text once, find the instruction's words in it, click their centre."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace

import numpy as np
from PIL import Image

from grounding.base import BaseGrounder
from grounding.errors import OptionError
from grounding.inputs import image_key, images_may_follow, to_rgb
from grounding.runtime import threads
from grounding.types import Prediction, TraceStep

from . import changes, engine
from .cache import Frames, ScreenCache, store
from .instruction import Query, parse
from .match import best_per_place, candidates, misfit, same_place
from .rank import RAW_WEIGHT, Ranked, best_possible, click_point, rank

# One cache for every OcrGrounder in the process: eval builds one grounder per worker thread.
_CACHE = ScreenCache()
# The last screenshots read, so the next step of a live session re-reads only what changed on the screen.
_FRAMES = Frames()
# Screens being read at once, as many as the cores serve: the zoom loop asks for four tiles together and eval runs
# workers beside it, and each look at a 5K view holds copies of its frame, while the models already use every core.
_reading = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) // threads()))


class OcrGrounder(BaseGrounder):
    """Text grounding with RapidOCR (PP-OCR) on the CPU; icons without visible text come back not_found."""

    name = "ocr"
    # An exact, whole-label OCR match (score 1.0) was right 22 times in 23 on the dev set: narrowing it only costs.
    zoom_defaults = {"confident": 1.0}

    def __init__(self, *, min_score: float = 0.6, det_limit: int = 1920, candidates: int = 5) -> None:
        if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0.0 <= min_score <= 1.0:
            raise OptionError(f"min_score must lie in [0, 1], got {min_score}")
        if isinstance(det_limit, bool) or not isinstance(det_limit, int) or det_limit < 320:
            raise OptionError(f"det_limit must be an integer of at least 320 pixels, got {det_limit!r}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise OptionError(f"candidates must be a positive integer, got {candidates!r}")
        self.min_score = float(min_score)
        self.det_limit = det_limit
        self.candidates = candidates

    def read(self, image: Image.Image) -> engine.Page:
        """The screen's text lines and words with their boxes (cached per image), for reuse by other grounders."""
        image = to_rgb(image)
        with _reading:
            key, screen, _ = self._screen(image)
            if screen.read(image):
                store(key, screen)
        return engine.Page(screen.size, screen.lines())

    def _screen(self, image: Image.Image) -> tuple[str, engine.Screen, bool]:
        key = f"{image_key(image)}-det{self.det_limit}-{engine.READING}"
        screen, cached = _CACHE.get_or_compute(key, lambda: self._new_screen(image))
        return key, screen, cached

    def _new_screen(self, image: Image.Image) -> engine.Screen:
        """The boxes of a screenshot not read before: taken over from a like one where its pixels are the same."""
        if not images_may_follow():
            return engine.Screen.detected(image, self.det_limit)
        pixels = np.asarray(image)
        screen = None
        previous = _FRAMES.nearest(pixels, self.det_limit)
        if previous is not None:
            changed = changes.changed_regions(previous.pixels, pixels)
            if changed is not None:
                screen = changes.reread(previous.screen, image, changed)
        if screen is None:
            screen = engine.Screen.detected(image, self.det_limit)
        _FRAMES.add(pixels, screen, self.det_limit)
        return screen

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        with _reading:
            key, screen, cached = self._screen(image)
            query = parse(instruction)
            pending = screen.pending
            ranked, newly = _read_until_settled(query, screen, image)
            whole = parse(instruction, whole=True)
            if whole != query:
                # The purpose cut off a task-style instruction may be part of the label; the better match decides.
                ranked_whole, more = _read_until_settled(whole, screen, image)
                newly += more
                if ranked_whole and (not ranked or ranked_whole[0].score > ranked[0].score):
                    query, ranked = whole, ranked_whole
            if newly or screen.pending != pending:
                store(key, screen)
        places = best_per_place((r.candidate for r in ranked), self.candidates)
        extra = {
            "target": query.target,
            "role": query.role,
            "area": query.area,
            "ocr_cached": cached,
            "boxes_read": newly,
            "boxes_carried": screen.carried,
            "candidates": [c.to_dict() for c in places],
        }
        raw = json.dumps({"target": query.target, "matched": places[0].text if places else None})
        step = TraceStep("full", None, raw=raw, note=f"{len(screen.boxes)} text boxes")
        if not ranked or ranked[0].score < self.min_score:
            score = ranked[0].score if ranked else 0.0
            # Every line was detected at a size where it stays legible (small text at its native size, see
            # `engine.find_text`) and read: magnified tiles of the screen would only read the same lines again.
            return Prediction.not_found(raw, score=score, trace=(step,), extra=extra, final=True)
        best = ranked[0]
        point = click_point(query, best.candidate, image.size)
        return Prediction(
            point=point,
            box=best.candidate.box if best.candidate.box.contains(point) else None,
            score=best.score,
            raw=raw,
            trace=(replace(step, point=point, score=best.score),),
            extra={**extra, "matched": best.candidate.text},
            final=_decisive(best) or _only_exact_reading(best, ranked),
        )


# Boxes read before the matches are ranked again: one, then twice as many each time (the most promising box is often
# the target: a menu item or tab after a live step), so a screen that has to be read whole is ranked about log2(N)
# times, and the last rankings cost about as much as one over the whole screen.
_FIRST_BATCH = 1


def _read_until_settled(query: Query, screen: engine.Screen, image: Image.Image) -> tuple[list[Ranked], int]:
    """The matches ranked, after reading the screen's boxes most promising first until no unread box could hold a
    better one; and how many boxes were newly read.

    Most instructions name a label whose width can be guessed from its length, and many say where it is ("in the menu
    bar"), so the boxes that could score highest (`rank.best_possible`) are read first, and among equals those nearest
    the label's width. Reading stops at a whole, exact match that no unread box could beat, except by the same-case
    tie-breaker; else when even that cannot happen; the rest stay unread until an instruction needs them. A tile still
    to be detected (`engine.Screen.pending`) is an unread box as large as the region its lines may cover: it is
    detected when it is the most promising, top left first among equals.
    """
    size = image.size
    ranked = rank(query, candidates(query.target, screen.lines()), size)
    newly, batch = 0, _FIRST_BATCH
    while True:
        bound = {i: best_possible(query, screen.boxes[i], size) for i in screen.unread()}
        unread = sorted(bound, key=lambda i: (
            -bound[i], misfit(screen.boxes[i], query.target), screen.boxes[i].y1, screen.boxes[i].x1
        ))
        waiting = screen.waiting().items()
        tiles = {tile: best_possible(query, region, size, engine.TALLEST_LINE) for tile, region in waiting}
        tile = max(tiles, key=tiles.__getitem__, default=None)
        promise = [bound[i] for i in unread[:1]] + ([tiles[tile]] if tile is not None else [])
        if not promise or (ranked and _settled(ranked[0], max(promise))):
            return ranked, newly
        # A box is read before a tile that could only beat it by the same-case tie-breaker: an exact label read
        # there settles the answer (`_settled`), and reading a box costs a thirtieth of detecting a tile.
        if tile is not None and (not unread or tiles[tile] > bound[unread[0]] + RAW_WEIGHT):
            screen.detect(image, [tile])
            continue
        newly += screen.read(image, unread[:batch])
        batch *= 2
        ranked = rank(query, candidates(query.target, screen.lines()), size)


def _settled(best: Ranked, best_unread: float) -> bool:
    margin = RAW_WEIGHT if _decisive(best) else 0.0
    return best.unclipped + margin >= best_unread


def _decisive(best: Ranked) -> bool:
    return best.candidate.similarity >= 1.0 and best.candidate.extra_words == 0


def _only_exact_reading(best: Ranked, ranked: list[Ranked]) -> bool:
    """The best match reads exactly as the target and nothing elsewhere on the screen does, so a magnified re-read
    around it could only confirm it. (On the dev set, narrowing such matches changed no answer; where the same
    words stand twice it moved one to the right place.)"""
    if best.candidate.similarity < 1.0:
        return False
    return not any(
        other.candidate.similarity >= 1.0 and not same_place(other.candidate.box, best.candidate.box)
        for other in ranked[1:]
    )
