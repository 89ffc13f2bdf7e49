"""One look: show the grounder a (magnified) region of the screen and map its answer back to the screen's pixels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from tools.image import zoom

from ..geometry import Box, Point
from ..types import Grounder, Status, TraceStep


@dataclass(frozen=True)
class Hit:
    """A found target, in the original screen's pixels, and the view it was found in."""

    point: Point
    box: Box | None
    score: float
    raw: str
    crop: Box
    scale: float
    extra: Mapping[str, Any] = field(default_factory=dict)  # the grounder's own details (OCR near misses, ...)
    final: bool = False  # the grounder's word that a closer look cannot change it (`Prediction.final`)


@dataclass(frozen=True)
class Look:
    step: TraceStep
    status: Status
    hit: Hit | None
    calls: int
    tokens: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    final: bool = False


def look(grounder: Grounder, image: Image.Image, instruction: str, region: Box, scale: float, kind: str) -> Look:
    view = zoom(image, region, scale=scale)
    answer = grounder.locate(view.image, instruction)
    hit = None
    if answer.found:
        point = view.box.clamp_point(view.to_parent.apply(answer.point))
        box = view.to_parent.apply_box(answer.box) if answer.box is not None else None
        hit = Hit(point, box, answer.score, answer.raw, view.box, view.scale, answer.extra, answer.final)
    step = TraceStep(
        kind=kind,
        crop=view.box,
        scale=view.scale,
        raw=answer.raw,
        point=hit.point if hit else None,
        score=answer.score,
        note="" if hit else answer.status.value,
    )
    return Look(step, answer.status, hit, answer.calls, answer.tokens, answer.extra, answer.final)


def fit_scale(region: Box, wanted: float, budget_pixels: float) -> float:
    """`wanted` magnification for a region, lowered so the view stays within the grounder's pixel budget."""
    pixels = max(1.0, region.width * region.height)
    return min(wanted, math.sqrt(budget_pixels / pixels))
