"""Reading a screenshot that differs from one read before in a few places: only what changed is read again.

Consecutive screenshots of a live desktop differ little (a menu opens, a dialog appears, a few characters are typed),
so a new screen's reading starts from the most alike screen read before (`cache.Frames`). A cheap exact diff finds
every changed pixel, grouped into regions; each region, with the earlier lines it touches and some context around
them, is detected again at the old reading's own scale, grown until no line it finds runs out of it; the new boxes
are read afresh. An old box keeps its reading only when not one of its pixels changed and no re-detected line
overlaps it, so nothing that changed is ever answered from the old reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from grounding.geometry import Box

from . import engine

CELL = 16  # the diff's grain, in pixels: a changed pixel marks its whole cell
# Past this share of the screen changed (cells), or to be detected again (regions with their context), it is another
# screen rather than the same one a step later: a fresh reading costs about as much and reads it as a whole.
MAX_CHANGED = 0.5
MAX_REDETECTED = 1 / 3
PAD = 24  # pixels of unchanged context around a change that the detector sees with it
_GROWTHS = 4  # times a region may grow to take in a line that runs out of it, before the whole screen is read again
_BAND = 16  # rows of cells compared at once


def changed_regions(old: np.ndarray, new: np.ndarray) -> list[Box] | None:
    """Boxes (whole cells) covering every pixel that differs between two RGB arrays of one size, near ones merged;
    None when more than MAX_CHANGED of the screen changed."""
    import cv2  # loaded on use, like the OCR models: listing grounders stays light

    height, width = new.shape[:2]
    rows, cols = math.ceil(height / CELL), math.ceil(width / CELL)
    # Rows of bytes compared as they lie (a cell is CELL rows of CELL pixels' bytes): six times faster than comparing
    # pixels channel by channel, 6 ms on a 1080p frame.
    grain = CELL * (new.size // (height * width))
    old_rows, new_rows = old.reshape(height, -1), new.reshape(height, -1)
    cells = np.zeros((rows, cols), np.uint8)
    for row in range(0, rows, _BAND):  # a band of rows at a time: a 5K frame's full diff would be 60 MB of flags
        top, bottom = row * CELL, min(height, (row + _BAND) * CELL)
        differs = np.zeros((bottom - top + (-(bottom - top)) % CELL, cols * grain), bool)
        np.not_equal(old_rows[top:bottom], new_rows[top:bottom], out=differs[: bottom - top, : new_rows.shape[1]])
        cells[row : row + differs.shape[0] // CELL] = differs.reshape(-1, CELL, cols, grain).any(axis=(1, 3))
    if cells.mean() > MAX_CHANGED:
        return None
    # Cells a cell apart belong to one change (the two halves of a redrawn word), so dilate before grouping.
    count, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(cells, np.ones((3, 3), np.uint8)), connectivity=8)
    regions = []
    for x, y, w, h, _ in stats[1:count]:
        inside = cells[y : y + h, x : x + w]
        ys, xs = np.nonzero(inside)
        regions.append(Box(
            (x + xs.min()) * CELL, (y + ys.min()) * CELL, min(width, (x + xs.max() + 1) * CELL),
            min(height, (y + ys.max() + 1) * CELL),
        ))
    return regions


def reread(previous: engine.Screen, image: Image.Image, changed: Sequence[Box]) -> engine.Screen | None:
    """A reading of `image` made of `previous`'s boxes outside the changed regions (with what was read in them) and
    boxes detected afresh around the changes (unread); None when that cannot be done exactly (no scale known, or a
    re-detected line keeps running out of its region, or a change lies where a tile of the earlier screen was never
    detected) or is not worth it (too much of the screen to detect again). Tiles never detected stay so: they will be
    detected on the new screen when needed."""
    if previous.scale is None or previous.size != image.size:
        return None
    # A line that changed anywhere is read again whole, so the detector sees all of it from the start (else the area
    # grows to take it in, and is detected a second time).
    touched = [box for box in previous.boxes if any(_shares_pixels(box, region) for region in changed)]
    areas = _merged([_around(area, image.size) for area in (*changed, *touched)])
    undetected = list(previous.waiting().values())
    for _ in range(_GROWTHS):
        if sum(area.area for area in areas) > MAX_REDETECTED * image.width * image.height:
            return None
        if any(area.intersection(region) is not None for area in areas for region in undetected):
            return None
        found = [box for area in areas for box in engine.detect_in(image, area, previous.scale)]
        fresh, stale = _replaced(previous.boxes, found, changed)
        grown = _merged([_grown(area, fresh, image.size, previous.boxes) for area in areas])
        if grown == areas:
            break
        areas = grown
    else:
        return None
    read = previous.read_so_far()
    kept: list[Box] = []
    lines: dict[int, engine.Line | None] = {}
    for index, box in enumerate(previous.boxes):
        if index in stale:
            continue
        if index in read:
            lines[len(kept)] = read[index]
        kept.append(box)
    return engine.Screen(
        image.size, kept + fresh, lines, previous.scale, carried=len(kept), pending=previous.pending,
        pieces=previous.pieces,
    )


def _replaced(before: Sequence[Box], found: Sequence[Box], changed: Sequence[Box]) -> tuple[list[Box], set[int]]:
    """(the re-detected boxes to keep, indices of the earlier boxes they replace): an earlier box goes when one of
    its pixels changed or a kept new box overlaps it; a new box is kept when one of its pixels changed or it overlaps
    an earlier box that goes. Elsewhere the earlier boxes, already read, stand."""
    stale = {i for i, box in enumerate(before) if any(_shares_pixels(box, region) for region in changed)}
    keep = {j for j, box in enumerate(found) if any(_shares_pixels(box, region) for region in changed)}
    while True:
        more_stale = {
            i for i, box in enumerate(before) if i not in stale and any(_overlap(box, found[j]) for j in keep)
        }
        stale |= more_stale
        more_keep = {
            j for j, box in enumerate(found) if j not in keep and any(_overlap(box, before[i]) for i in stale)
        }
        keep |= more_keep
        if not more_stale and not more_keep:
            return [found[j] for j in sorted(keep)], stale


def _grown(area: Box, fresh: Sequence[Box], size: tuple[int, int], before: Sequence[Box]) -> Box:
    """`area` widened wherever a kept new line touches one of its inner edges, since the line may run on past it: to
    the end of the line as the earlier reading saw it, and a few line heights further."""
    grown = area
    for box in fresh:
        if box.intersection(area) is None:
            continue
        touches = (
            (box.x1 <= area.x1 + 1 and area.x1 > 0) or (box.x2 >= area.x2 - 1 and area.x2 < size[0])
            or (box.y1 <= area.y1 + 1 and area.y1 > 0) or (box.y2 >= area.y2 - 1 and area.y2 < size[1])
        )
        if touches:
            line = Box.union_of([box, *(old for old in before if _overlap(old, box))])
            grown = Box.union_of((grown, line.expand(max(PAD, 4 * box.height), PAD)))
    return grown.clip(*size)


def _around(area: Box, size: tuple[int, int]) -> Box:
    """The area with PAD of context, reaching the screen's edge where it comes within PAD of it: a line found there
    would otherwise touch the area's edge and have it grown (and detected again) by a sliver."""
    x1, y1, x2, y2 = area.expand(PAD).to_list()
    width, height = size
    return Box(
        0 if x1 < PAD else x1, 0 if y1 < PAD else y1,
        width if x2 > width - PAD else x2, height if y2 > height - PAD else y2,
    )


def _merged(areas: Sequence[Box]) -> list[Box]:
    """Overlapping areas joined into their union until none overlap (one detection per part of the screen)."""
    merged = list(areas)
    joined = True
    while joined:
        joined = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                if _overlap(merged[i], merged[j]):
                    merged[i] = Box.union_of((merged[i], merged[j]))
                    del merged[j]
                    joined = True
                    break
            if joined:
                break
    return sorted(merged, key=lambda box: (box.y1, box.x1))


def _overlap(a: Box, b: Box) -> bool:
    inter = a.intersection(b)
    return inter is not None and inter.area > 0


def _shares_pixels(box: Box, region: Box) -> bool:
    """Whether the pixels `recognize` crops for `box` include any of `region`'s (a region of whole pixels)."""
    x1, y1, x2, y2 = box.to_ints()
    return x1 < region.x2 and region.x1 < x2 and y1 < region.y2 and region.y1 < y2
