"""Crop and zoom: the primitives the refinement loop uses and a model may call as tools.

Each returns the new image and the `Transform` that maps its pixels back into the parent image's pixels, so any
answer given on a crop maps back exactly: `parent_point = transform.apply(point_on_crop)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from grounding.geometry import Box, Point, Transform


@dataclass(frozen=True)
class View:
    """An image derived from a parent image, and the way back to the parent's pixels."""

    image: Image.Image
    to_parent: Transform
    box: Box  # the region of the parent this view shows, in parent pixels

    @property
    def scale(self) -> float:
        """Magnification relative to the parent (2.0 means one parent pixel became two)."""
        return 1.0 / self.to_parent.scale_x


def crop_box(image_size: tuple[int, int], box: Box, min_size: int = 1) -> Box:
    """The integer pixel box a crop of `box` actually takes: clipped to the image, never empty.

    A box partly outside is clipped; a box narrower than `min_size` grows around its centre (then shifts to stay
    inside), so a crop always has at least min(min_size, image side) pixels per side.
    """
    width, height = image_size
    if width <= 0 or height <= 0:
        raise ValueError(f"image has no pixels: {width}x{height}")
    x1, x2 = _span(box.x1, box.x2, width, min_size)
    y1, y2 = _span(box.y1, box.y2, height, min_size)
    return Box(x1, y1, x2, y2)


def _span(lo: float, hi: float, limit: int, min_size: int) -> tuple[int, int]:
    start = max(0, min(limit, math.floor(lo)))
    end = max(0, min(limit, math.ceil(hi)))
    need = min(max(1, min_size), limit)
    if end - start < need:
        centre = (lo + hi) / 2
        start = int(round(centre - need / 2))
        start = max(0, min(limit - need, start))
        end = start + need
    return start, end


def window(image_size: tuple[int, int], center: Point, width: float, height: float) -> Box:
    """A `width` x `height` box centred as near `center` as the image allows: shifted inside, never clipped.

    Sides larger than the image shrink to the image's side, so the box always lies wholly inside. Crops around a point
    near a border keep their size (and so their context and aspect ratio) instead of losing half of it.
    """
    image_w, image_h = image_size
    if image_w <= 0 or image_h <= 0:
        raise ValueError(f"image has no pixels: {image_w}x{image_h}")
    if not (width > 0 and height > 0):
        raise ValueError(f"window size must be positive, got {width}x{height}")
    x1 = _shift(center.x, min(width, image_w), image_w)
    y1 = _shift(center.y, min(height, image_h), image_h)
    return Box(x1, y1, x1 + min(width, image_w), y1 + min(height, image_h))


def _shift(centre: float, side: float, limit: float) -> float:
    return min(max(centre - side / 2, 0.0), limit - side)


def crop(image: Image.Image, box: Box, min_size: int = 1) -> View:
    """The pixels of `box` (clipped to the image, at least `min_size` per side) at their own scale."""
    taken = crop_box(image.size, box, min_size)
    x1, y1, x2, y2 = (int(v) for v in taken)
    return View(image.crop((x1, y1, x2, y2)), Transform.translate(x1, y1), taken)


def zoom(
    image: Image.Image,
    box: Box | None = None,
    scale: float | None = None,
    target_size: tuple[int, int] | None = None,
    min_size: int = 1,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
) -> View:
    """Crop `box` (the whole image when None) and resize it.

    Give exactly one of `scale` (the same factor on both axes) or `target_size` (w, h): the crop is fitted inside
    target_size with its aspect ratio kept, so a 32:9 crop is never stretched. The returned transform uses the exact
    per-axis ratio of the integer sizes, so mapping back is exact rather than off by the rounding of the new size.
    """
    if (scale is None) == (target_size is None):
        raise ValueError("give exactly one of scale or target_size")
    view = crop(image, box if box is not None else Box(0, 0, *image.size), min_size)
    w, h = view.image.size
    if scale is not None:
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be positive, got {scale}")
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    else:
        tw, th = target_size
        if tw <= 0 or th <= 0:
            raise ValueError(f"target size must be positive, got {target_size}")
        fit = min(tw / w, th / h)
        new_w, new_h = max(1, min(tw, round(w * fit))), max(1, min(th, round(h * fit)))
    resized = view.image if (new_w, new_h) == (w, h) else view.image.resize((new_w, new_h), resample)
    back = Transform.between_sizes((new_w, new_h), (w, h)).then(view.to_parent)
    return View(resized, back, view.box)
