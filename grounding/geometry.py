"""Points, boxes and the transforms between pixel spaces.

Every coordinate change in the project (crop offsets, resize scales, model coordinate spaces, monitor offsets, HiDPI
scale) is a `Transform`, so the maths lives here once. Coordinates are continuous pixel coordinates of an image:
(0, 0) is the top-left corner of the top-left pixel and (W, H) the bottom-right corner of the image; a resize by
`s` maps x to x * s. Integer pixel indexes are the same numbers, which is what benchmark boxes and screens use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            raise ValueError(f"point coordinates must be finite, got ({self.x}, {self.y})")

    def __iter__(self):
        return iter((self.x, self.y))

    def distance(self, other: Point) -> float:
        return math.hypot(self.x - other.x, self.y - other.y)

    def rounded(self) -> tuple[int, int]:
        """The pixel this point falls in (what a click or a scorer uses)."""
        return (int(math.floor(self.x)), int(math.floor(self.y)))

    def to_list(self) -> list[float]:
        return [round(self.x, 2), round(self.y, 2)]

    @classmethod
    def of(cls, value: Point | Sequence[float]) -> Point:
        if isinstance(value, Point):
            return value
        x, y = value
        return cls(float(x), float(y))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2."""

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        values = (self.x1, self.y1, self.x2, self.y2)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"box coordinates must be finite, got {list(values)}")
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError(f"box corners are reversed: {list(values)}")

    @classmethod
    def from_corners(cls, x1: float, y1: float, x2: float, y2: float) -> Box:
        """A box from two opposite corners in any order (models and some datasets swap them)."""
        return cls(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        return cls(x, y, x + w, y + h)

    @classmethod
    def around(cls, center: Point, width: float, height: float) -> Box:
        return cls(center.x - width / 2, center.y - height / 2, center.x + width / 2, center.y + height / 2)

    @classmethod
    def of(cls, value: Box | Sequence[float]) -> Box:
        if isinstance(value, Box):
            return value
        x1, y1, x2, y2 = value
        return cls(float(x1), float(y1), float(x2), float(y2))

    @classmethod
    def union_of(cls, boxes: Iterable[Box]) -> Box:
        boxes = list(boxes)
        if not boxes:
            raise ValueError("union of no boxes")
        return cls(
            min(b.x1 for b in boxes), min(b.y1 for b in boxes), max(b.x2 for b in boxes), max(b.y2 for b in boxes)
        )

    def __iter__(self):
        return iter((self.x1, self.y1, self.x2, self.y2))

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> Point:
        return Point((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def contains(self, point: Point) -> bool:
        """Inclusive on every edge, as the official ScreenSpot scorers count a hit."""
        return self.x1 <= point.x <= self.x2 and self.y1 <= point.y <= self.y2

    def intersection(self, other: Box) -> Box | None:
        x1, y1 = max(self.x1, other.x1), max(self.y1, other.y1)
        x2, y2 = min(self.x2, other.x2), min(self.y2, other.y2)
        if x2 < x1 or y2 < y1:
            return None
        return Box(x1, y1, x2, y2)

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        if inter is None or inter.area == 0:
            return 0.0
        return inter.area / (self.area + other.area - inter.area)

    def expand(self, dx: float, dy: float | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x1 - dx, self.y1 - dy, self.x2 + dx, self.y2 + dy)

    def clip(self, width: float, height: float) -> Box:
        """Clipped to an image of that size; a box wholly outside collapses onto the nearest edge."""
        x1 = min(max(self.x1, 0.0), width)
        y1 = min(max(self.y1, 0.0), height)
        x2 = min(max(self.x2, 0.0), width)
        y2 = min(max(self.y2, 0.0), height)
        return Box(x1, y1, x2, y2)

    def clamp_point(self, point: Point) -> Point:
        return Point(min(max(point.x, self.x1), self.x2), min(max(point.y, self.y1), self.y2))

    def to_ints(self) -> tuple[int, int, int, int]:
        """The smallest integer pixel box that covers this one."""
        return (math.floor(self.x1), math.floor(self.y1), math.ceil(self.x2), math.ceil(self.y2))

    def to_list(self) -> list[float]:
        return [round(v, 2) for v in self]


@dataclass(frozen=True)
class Transform:
    """dst = src * scale + offset, per axis: maps points from one pixel space into another.

    A crop at (left, top) maps crop pixels to parent pixels with scale 1 and offset (left, top); a resize by s maps
    resized pixels back with scale 1/s. `then` composes, `inverse` goes the other way.
    """

    scale_x: float = 1.0
    scale_y: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0

    def __post_init__(self) -> None:
        if self.scale_x <= 0 or self.scale_y <= 0 or not all(
            math.isfinite(v) for v in (self.scale_x, self.scale_y, self.offset_x, self.offset_y)
        ):
            raise ValueError(f"invalid transform {self}")

    @classmethod
    def identity(cls) -> Transform:
        return cls()

    @classmethod
    def translate(cls, dx: float, dy: float) -> Transform:
        return cls(1.0, 1.0, dx, dy)

    @classmethod
    def scaling(cls, sx: float, sy: float | None = None) -> Transform:
        return cls(sx, sx if sy is None else sy, 0.0, 0.0)

    @classmethod
    def between_sizes(cls, src_size: tuple[float, float], dst_size: tuple[float, float]) -> Transform:
        """Maps an image of src_size onto the same picture resized to dst_size."""
        (sw, sh), (dw, dh) = src_size, dst_size
        if sw <= 0 or sh <= 0 or dw <= 0 or dh <= 0:
            raise ValueError(f"sizes must be positive: {src_size} -> {dst_size}")
        return cls(dw / sw, dh / sh, 0.0, 0.0)

    @classmethod
    def box_to_box(cls, src: Box, dst: Box) -> Transform:
        """Maps box src onto box dst (corners onto corners)."""
        if src.width <= 0 or src.height <= 0 or dst.width <= 0 or dst.height <= 0:
            raise ValueError(f"boxes must have positive size: {src} -> {dst}")
        sx, sy = dst.width / src.width, dst.height / src.height
        return cls(sx, sy, dst.x1 - src.x1 * sx, dst.y1 - src.y1 * sy)

    def apply(self, point: Point) -> Point:
        return Point(point.x * self.scale_x + self.offset_x, point.y * self.scale_y + self.offset_y)

    def apply_box(self, box: Box) -> Box:
        a = self.apply(Point(box.x1, box.y1))
        b = self.apply(Point(box.x2, box.y2))
        return Box(a.x, a.y, b.x, b.y)

    def inverse(self) -> Transform:
        return Transform(
            1.0 / self.scale_x, 1.0 / self.scale_y, -self.offset_x / self.scale_x, -self.offset_y / self.scale_y
        )

    def then(self, other: Transform) -> Transform:
        """This transform followed by `other`."""
        return Transform(
            self.scale_x * other.scale_x,
            self.scale_y * other.scale_y,
            self.offset_x * other.scale_x + other.offset_x,
            self.offset_y * other.scale_y + other.offset_y,
        )


def cover(size: tuple[int, int], side: int, overlap: int, multiple: int = 1) -> list[Box]:
    """Integer tiles, row-major, no side longer than `side`, that cover a `size` image with neighbours sharing at
    least `overlap` pixels; tile sides are multiples of `multiple` where the image allows, and all tiles are alike.
    One tile (the whole image) when it fits."""
    if side <= overlap or side < multiple:
        raise ValueError(f"a tile side of {side} cannot overlap by {overlap} in steps of {multiple}")
    xs, tile_w = _spans(size[0], side, overlap, multiple)
    ys, tile_h = _spans(size[1], side, overlap, multiple)
    return [Box(x, y, x + tile_w, y + tile_h) for y in ys for x in xs]


def _spans(length: int, side: int, overlap: int, multiple: int) -> tuple[list[int], int]:
    """Starts and common length of the fewest spans of at most `side` covering [0, length) with `overlap`."""
    if length <= side:
        return [0], length
    count = math.ceil((length - overlap) / (side - overlap))
    span = math.ceil((length + (count - 1) * overlap) / count)
    span = min(length, side, math.ceil(span / multiple) * multiple)
    return [round(i * (length - span) / (count - 1)) for i in range(count)], span
