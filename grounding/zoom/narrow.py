"""Iterative narrowing: crop around the current answer at rising magnification, re-ask, keep what agrees."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import Image

from tools.image import window

from ..geometry import Box
from ..types import Grounder, TraceStep
from .config import ZoomConfig
from .look import Hit, fit_scale, look


@dataclass(frozen=True)
class Chain:
    hit: Hit
    steps: tuple[TraceStep, ...]
    calls: int
    tokens: int


def narrow(
    grounder: Grounder, image: Image.Image, instruction: str, start: Hit, config: ZoomConfig, budget: float
) -> Chain:
    """Refine `start` for up to `config.steps` looks; stops early on convergence, disagreement or no progress.

    A zoomed answer is accepted when its score is not much below the current one (for OCR: the magnified re-read
    agrees or reads better); a rejected or empty look ends the chain and the last accepted answer stands. A hit the
    grounder called final is not narrowed.
    """
    current, steps, calls, tokens = start, [], 0, 0
    if start.final or (config.confident and start.score >= config.confident):
        return Chain(current, (), 0, 0)
    for _ in range(config.steps):
        region = _next_region(image.size, current, config)
        scale = fit_scale(region, config.upscale, budget)
        if _no_progress(region, scale, current):
            break
        seen = look(grounder, image, instruction, region, scale, "zoom")
        calls, tokens = calls + seen.calls, tokens + seen.tokens
        hit = seen.hit
        if hit is None or hit.score < current.score - config.tolerance:
            why = "no answer" if hit is None else f"rejected: score {hit.score:.2f} < {current.score:.2f}"
            steps.append(replace(seen.step, note=why))
            break
        moved = hit.point.distance(current.point)
        converged = moved <= config.converge * max(region.width, region.height)
        steps.append(replace(seen.step, note=f"moved {moved:.1f}px" + (", converged" if converged else "")))
        current = hit
        if converged or hit.final:
            break
    return Chain(current, tuple(steps), calls, tokens)


# Crop origins snap to this fraction of the crop's side: answers a few pixels apart then get the very same view, which
# grounders that cache per image (OCR) read once for all the instructions on one screen. The answer stays at least
# 7/16 of a side away from the crop's edges.
SNAP = 1 / 8


def _next_region(image_size: tuple[int, int], current: Hit, config: ZoomConfig) -> Box:
    """The previous view shrunk by `crop` (not below `min_crop`), in the screen's aspect, around the answer."""
    width, height = image_size
    long_side = max(config.min_crop, config.crop * max(current.crop.width, current.crop.height))
    ratio = long_side / max(width, height)
    centred = window(image_size, current.point, width * ratio, height * ratio)
    x1 = _snap(centred.x1, centred.width, width)
    y1 = _snap(centred.y1, centred.height, height)
    return Box(x1, y1, x1 + centred.width, y1 + centred.height)


def _snap(start: float, side: float, limit: float) -> float:
    step = max(1.0, round(side * SNAP))
    return min(max(0.0, round(start / step) * step), limit - side)


def _no_progress(region: Box, scale: float, current: Hit) -> bool:
    """The crop would be no tighter and no more magnified than the view the answer came from."""
    return (
        region.width >= current.crop.width - 1
        and region.height >= current.crop.height - 1
        and scale <= current.scale * 1.01
    )
