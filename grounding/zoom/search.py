"""Coarse-to-fine tiling for when a look at the whole screen finds nothing (after ScreenSeekeR's cascade).

Level 1 covers the screen with overlapping tiles, each magnified; when no tile yields a hit, level 2 splits every tile
of level 1 the same way, and so on. Magnification is what makes small targets (tiny text on a 4K screen) readable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..geometry import Box

# Tiles overlap by this fraction of their side, so a target on a seam lies wholly inside at least one tile.
OVERLAP = 0.25


def grid(region: Box, rows: int, cols: int, min_side: float = 1.0) -> list[Box]:
    """rows x cols overlapping tiles covering `region`, row-major.

    A tile is a grid cell grown by OVERLAP, and at least the region scaled down to `min_side` on its longer side (so
    tiles keep context), capped at the region; tiles are spread evenly so the first and last touch the region's edges.
    On a 2x2 grid tiles keep the region's aspect ratio.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"grid needs at least one row and column, got {rows}x{cols}")
    tile_w = min(region.width, max(region.width / cols * (1 + OVERLAP), _floor(region, min_side)[0]))
    tile_h = min(region.height, max(region.height / rows * (1 + OVERLAP), _floor(region, min_side)[1]))
    xs = _starts(region.x1, region.width, tile_w, cols)
    ys = _starts(region.y1, region.height, tile_h, rows)
    return [Box(x, y, x + tile_w, y + tile_h) for y in ys for x in xs]


def _floor(region: Box, min_side: float) -> tuple[float, float]:
    ratio = min_side / max(region.width, region.height)
    return region.width * ratio, region.height * ratio


def _starts(origin: float, extent: float, side: float, count: int) -> list[float]:
    if count == 1:
        return [origin + (extent - side) / 2]
    return [origin + i * (extent - side) / (count - 1) for i in range(count)]


def cascade(screen: Box, depth: int, min_side: float) -> Iterable[list[Box]]:
    """The tiles of each level, coarse first: level k splits every tile of level k-1 into 2x2."""
    level = [screen]
    for _ in range(depth):
        level = [tile for parent in level for tile in grid(parent, 2, 2, min_side)]
        level = _unique(level)
        yield level


def _unique(boxes: Sequence[Box]) -> list[Box]:
    seen: dict[tuple[int, ...], Box] = {}
    for box in boxes:
        seen.setdefault(tuple(round(v) for v in box), box)
    return list(seen.values())


def attempt_tiles(screen: Box, count: int, min_side: float) -> list[Box]:
    """Up to `count` tiles for parallel attempts: the fullest grid with rows <= cols that fits in `count`."""
    if count < 1:
        return []
    rows = max(1, int(count**0.5))
    cols = count // rows
    return grid(screen, rows, cols, min_side)

