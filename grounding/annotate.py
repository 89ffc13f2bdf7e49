"""Drawing predictions on screenshots: for `--annotate`, zoom traces, failure galleries and click previews."""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image, ImageDraw

from .geometry import Box, Point

PREDICTED = (230, 30, 30)
TRUTH = (20, 170, 60)
CROP = (40, 110, 240)


def _line_width(image: Image.Image) -> int:
    return max(2, round(max(image.size) / 800))


def draw_box(draw: ImageDraw.ImageDraw, box: Box, color: tuple[int, int, int], width: int) -> None:
    draw.rectangle(tuple(box), outline=color, width=width)


def draw_point(
    draw: ImageDraw.ImageDraw, point: Point, color: tuple[int, int, int], width: int, label: str = ""
) -> None:
    r = 6 * width
    x, y = point.x, point.y
    draw.ellipse((x - r, y - r, x + r, y + r), outline=color, width=width)
    draw.line((x - 2 * r, y, x - r / 2, y), fill=color, width=width)
    draw.line((x + r / 2, y, x + 2 * r, y), fill=color, width=width)
    draw.line((x, y - 2 * r, x, y - r / 2), fill=color, width=width)
    draw.line((x, y + r / 2, x, y + 2 * r), fill=color, width=width)
    if label:
        draw.text((x + r + width, y - r - 12 * width // 2), label, fill=color)


def annotate(
    image: Image.Image,
    point: Point | None = None,
    box: Box | None = None,
    truth: Box | None = None,
    crops: Iterable[Box] = (),
    label: str = "",
) -> Image.Image:
    """A copy of `image` with the predicted point (red crosshair), its box, a ground-truth box (green) and crops
    (blue)."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = _line_width(out)
    for region in crops:
        draw_box(draw, region, CROP, width)
    if truth is not None:
        draw_box(draw, truth, TRUTH, width)
    if box is not None:
        draw_box(draw, box, PREDICTED, width)
    if point is not None:
        draw_point(draw, point, PREDICTED, width, label)
    return out
