"""How a screenshot is resized before a model sees it: the steps a family's reference inference takes, in order.

Most reference code leaves it to the checkpoint's image processor (one `smart_resize`); some resize first with
`qwen_vl_utils` or their own rule and then hand the result to the processor, which keeps it (it is already a multiple
of the patch size and within bounds) or resizes it again. The last step is always the processor's. Only the final
size matters for coordinates, so the backends resize once, straight to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import OptionError


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(H', W') exactly as the Qwen2-VL image processor computes them.

    Both sides become multiples of `factor` with min_pixels <= H'*W' <= max_pixels. Python's `round` (half to even)
    is part of the contract: a half-away-from-zero port gives 1036 where the processor gives 1008, and every click
    lands a few pixels off. Raises ValueError for an aspect ratio over 200, as the processor does.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image has no pixels: {width}x{height}")
    if max(height, width) / min(height, width) > 200:
        ratio = max(height, width) / min(height, width)
        raise ValueError(f"aspect ratio {ratio:.0f}:1 is over the model's 200:1 limit")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class SmartResize:
    """One `smart_resize`: the image processor's, or `qwen_vl_utils`' (the same arithmetic) with its own bounds."""

    factor: int
    min_pixels: int
    max_pixels: int

    def apply(self, width: int, height: int) -> tuple[int, int]:
        h, w = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
        return w, h


@dataclass(frozen=True)
class AreaCap:
    """Shrinks an image over `max_pixels` to about that area, aspect kept, sides rounded to whole pixels; smaller
    images pass unchanged (InfiGUI-G1's evaluation does this before `smart_resize`)."""

    max_pixels: int
    min_pixels: int = 0  # never enlarges

    def apply(self, width: int, height: int) -> tuple[int, int]:
        if width * height <= self.max_pixels:
            return width, height
        scale = math.sqrt(self.max_pixels / (width * height))
        return round(width * scale), round(height * scale)


@dataclass(frozen=True)
class Resize:
    """The resize steps of one family, the checkpoint's image processor last."""

    steps: tuple[SmartResize | AreaCap, ...]

    def __post_init__(self) -> None:
        if not self.steps or not isinstance(self.steps[-1], SmartResize):
            raise ValueError("a resize ends with the image processor's smart_resize")

    @property
    def factor(self) -> int:
        """Pixels per side of one image token (patch size x merge size): the architecture's, from the processor."""
        last = self.steps[-1]
        assert isinstance(last, SmartResize)
        return last.factor

    @property
    def min_pixels(self) -> int:
        return max(step.min_pixels for step in self.steps)

    @property
    def max_pixels(self) -> int:
        return min(step.max_pixels for step in self.steps)

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(W', H'): the size the model sees a width x height image at."""
        for step in self.steps:
            width, height = step.apply(width, height)
        return width, height

    def image_tokens(self, model_size: tuple[int, int]) -> int:
        """Tokens a model of this factor spends on an image of model_size (a multiple of the factor)."""
        return (model_size[0] // self.factor) * (model_size[1] // self.factor)

    def bounded(self, min_pixels: int | None, max_pixels: int | None) -> Resize:
        """The caller's pixel budget in place of the family's steps: one processor resize within it.

        One bound given by the caller wins over the other's default (max_pixels=200_000 on a 2M-min family works).
        """
        if min_pixels is None and max_pixels is None:
            return self
        if min_pixels and max_pixels and min_pixels > max_pixels:
            raise OptionError(f"min_pixels ({min_pixels}) is larger than max_pixels ({max_pixels})")
        high = int(max_pixels or max(self.max_pixels, min_pixels or 0))
        low = int(min_pixels or min(self.min_pixels, high))
        last = self.steps[-1]
        assert isinstance(last, SmartResize)
        return Resize((replace(last, min_pixels=low, max_pixels=high),))
