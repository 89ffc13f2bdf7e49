"""The crop-and-zoom strategy: wraps any grounder into one that looks again, closer.

    grounder = grounding.load("ocr", zoom={"steps": 2, "candidates": 3})

1. First look at the whole screen (downscaled to the grounder's `preferred_max_pixels` when it has one); with
   `candidates` > 1, magnified overlapping tiles of the screen are looked at too, concurrently.
2. No hit anywhere: a coarse-to-fine tiling search (`search.py`) with magnified tiles; its best hits go on.
3. Every hit is narrowed (`narrow.py`): crops around it at rising magnification until the answer converges.
4. Several refined hits are merged by score-weighted voting (`aggregate.py`).

A grounder that knows a closer look cannot change an answer says so (`Prediction.final`): that answer is neither
narrowed (step 3) nor searched for in tiles (step 2).

Every look is a `TraceStep` (crop in the original pixels, magnification, raw answer, mapped point, score) and the
wrapper only uses `locate` and `Prediction`, so it works on any registered grounder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from PIL import Image

from ..base import BaseGrounder
from ..geometry import Box
from ..types import Grounder, Prediction, PrefersPixels, Status, TraceStep, ZoomTuned
from .aggregate import aggregate
from .config import ZoomConfig, to_config
from .look import Hit, Look, fit_scale, look
from .narrow import Chain, narrow
from .search import attempt_tiles, cascade

__all__ = ["ZoomConfig", "Zoomed", "refine"]

# Statuses after which looking elsewhere can help (an ERROR is a broken backend: retrying tiles would not help).
_SEARCHABLE = (Status.NOT_FOUND, Status.WRONG_FORMAT)


def refine(grounder: Grounder, zoom: Any = True) -> Grounder:
    """`grounder` wrapped in the zoom loop; `zoom` is True (defaults), a mapping of settings, or a ZoomConfig.

    A grounder may carry `zoom_defaults`, settings that suit how its scores behave (e.g. OCR's exact-match 1.0 is
    final); settings given here override them.
    """
    return Zoomed(grounder, to_config(zoom, grounder.zoom_defaults if isinstance(grounder, ZoomTuned) else None))


class Zoomed(BaseGrounder):
    """A grounder that refines another grounder's answers on magnified crops."""

    def __init__(self, inner: Grounder, config: ZoomConfig) -> None:
        self.inner = inner
        self.config = config
        width = f"x{config.candidates}" if config.candidates > 1 else ""
        self.name = f"{inner.name}+zoom{width}"

    def __repr__(self) -> str:
        return f"Zoomed({self.inner.name!r}, {self.config})"

    # The inner grounder's capabilities that still hold for the loop. Not `locate_batch`/`batch_size`: a batch call
    # would answer from one look and bypass the loop; not `zoom_defaults`: they are already in `config`. Each
    # property raises AttributeError when the inner grounder lacks the capability, so `isinstance` checks stay true.

    @property
    def parallelism(self) -> int:
        return self.inner.parallelism

    @property
    def preferred_max_pixels(self) -> int:
        return self.inner.preferred_max_pixels

    @property
    def revision(self) -> str:
        return self.inner.revision

    @property
    def read(self) -> Any:
        return self.inner.read

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        with ThreadPoolExecutor(self.config.threads, thread_name_prefix="zoom") as pool:
            return _Run(self.inner, image, instruction, self.config, pool).result()


class _Run:
    """One locate call: the looks it took so far and what they cost."""

    def __init__(self, inner: Grounder, image: Image.Image, instruction: str, config: ZoomConfig, pool: Executor):
        self.inner, self.image, self.instruction, self.config, self.pool = inner, image, instruction, config, pool
        self.screen = Box(0, 0, *image.size)
        # A look never costs the grounder more pixels than it asked for, or than the whole screen.
        preferred = inner.preferred_max_pixels if isinstance(inner, PrefersPixels) else None
        self.budget = float(preferred or image.width * image.height)
        self.radius = max(16.0, 0.01 * math.hypot(*image.size))
        self.steps: list[TraceStep] = []
        self.calls = self.tokens = 0

    def result(self) -> Prediction:
        config = self.config
        views = [("full", self.screen, fit_scale(self.screen, 1.0, self.budget))]
        views += [
            ("tile", tile, fit_scale(tile, config.upscale, self.budget))
            for tile in attempt_tiles(self.screen, config.candidates - 1, config.min_crop)
        ]
        first, *_ = looks = self._looks(views)
        hits = [seen.hit for seen in looks if seen.hit]
        if not hits and config.search and first.status in _SEARCHABLE and not first.final:
            hits = self._search()
        if not hits:
            return Prediction(
                point=None, status=first.status, raw=first.step.raw, score=first.step.score,
                extra={**first.extra, **_view(first.step.crop, first.step.scale)},
                **self._cost()
            )
        chains = list(self.pool.map(self._narrow, hits))
        for chain in chains:
            self._count(chain.steps, chain.calls, chain.tokens)
        final, votes = chains[0].hit, {}
        if len(chains) > 1:
            vote = aggregate([chain.hit for chain in chains], self.radius)
            final, votes = vote.best, {"votes": vote.support, "attempts": vote.total}
            note = f"{vote.support} of {vote.total} refined answers agree (weight {vote.weight:.2f})"
            self.steps.append(
                TraceStep("aggregate", None, raw=final.raw, point=final.point, score=final.score, note=note)
            )
        return Prediction(
            point=final.point,
            box=final.box,
            score=final.score,
            raw=final.raw,
            extra={**final.extra, **_view(final.crop, final.scale), **votes},
            **self._cost(),
        )

    def _search(self) -> list[Hit]:
        """Tiles level by level until one level yields hits; the best `keep` distinct ones go on to narrowing."""
        for level in cascade(self.screen, self.config.search_depth, self.config.min_crop):
            looks = self._looks([("tile", tile, fit_scale(tile, self.config.upscale, self.budget)) for tile in level])
            hits = [seen.hit for seen in looks if seen.hit]
            if hits:
                return self._distinct(hits)[: self.config.keep]
        return []

    def _distinct(self, hits: Sequence[Hit]) -> list[Hit]:
        kept: list[Hit] = []
        for hit in sorted(hits, key=lambda hit: hit.score, reverse=True):
            if all(hit.point.distance(other.point) > self.radius for other in kept):
                kept.append(hit)
        return kept

    def _looks(self, views: Sequence[tuple[str, Box, float]]) -> list[Look]:
        looks = list(
            self.pool.map(lambda view: look(self.inner, self.image, self.instruction, view[1], view[2], view[0]), views)
        )
        for seen in looks:
            self._count([seen.step], seen.calls, seen.tokens)
        return looks

    def _narrow(self, hit: Hit) -> Chain:
        return narrow(self.inner, self.image, self.instruction, hit, self.config, self.budget)

    def _count(self, steps: Iterable[TraceStep], calls: int, tokens: int) -> None:
        self.steps.extend(steps)
        self.calls += calls
        self.tokens += tokens

    def _cost(self) -> dict[str, Any]:
        return {"trace": tuple(self.steps), "calls": self.calls, "tokens": self.tokens}


def _view(crop: Box | None, scale: float | None) -> dict[str, Any]:
    """Where the answering look was taken: any coordinates the grounder put in `extra` are in this view's pixels
    (crop of the screen magnified by scale), not the screen's."""
    return {"view": {"crop": crop.to_list() if crop else None, "scale": scale}}
