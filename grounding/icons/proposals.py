"""Where icons may be: small, roughly square blobs of contrast that are not text lines.

Icons are drawn with crisp edges on flat backgrounds, so a morphological gradient finds their ink; dilating it by a
few pixels joins an icon's parts (the two blades of scissors, the dots of a kebab menu) into one connected component
whose box we keep when its size and shape fit an icon at this screen's scale. Words found by OCR are blocked
(a candidate centred on a real word is dropped; OCR also boxes toolbars of icons as "text", so masking
whole lines would hide the icons), and three dilation sizes are tried because icon parts sit at varied gaps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from grounding.geometry import Box, Transform


@dataclass(frozen=True)
class Settings:
    # Grey-level steps that count as an edge: the low one finds faint line icons; the high one separates an icon
    # from a pale button frame or ruler it touches (which the low one joins into a blob too large to be an icon),
    # and is only used where the low one found no icon (elsewhere it would add parts of icons already found).
    contrasts: tuple[int, ...] = (28,)
    min_side: float = 5.0  # px at 1080p: smaller blobs are specks, dots and separators
    max_side: float = 64.0  # px at 1080p: larger blobs are images, panels and frames
    max_aspect: float = 4.0
    gaps: tuple[int, ...] = (1, 3, 6)  # dilation sizes at 1080p
    limit: int = 1500  # most candidates to embed on a very busy screen


def screen_scale(size: tuple[int, int]) -> float:
    """1.0 for 1080p, 2.0 for 4K: UI elements grow with the screen's pixel density."""
    return max(0.75, min(size) / 1080)


def propose(
    rgb: np.ndarray, exclude: Iterable[Box] = (), settings: Settings = Settings(), scale: float | None = None
) -> list[Box]:
    """Candidate icon boxes (ink extents) in the image's pixels, most icon-like first, none centred in `exclude`.

    `scale` is the screen's UI scale (`screen_scale` of the whole screen); give it when `rgb` is a part of a screen,
    whose own size says nothing about how large the UI is drawn.
    """
    height, width = rgb.shape[:2]
    scale = scale or screen_scale((width, height))
    # A 4K screen draws its UI at twice the size, so icons survive halving it: the search then costs a quarter.
    factor = max(1, int(scale))
    if factor > 1:
        small = cv2.resize(rgb, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
        to_small = Transform.between_sizes((width, height), (small.shape[1], small.shape[0]))
        boxes = _propose(small, [to_small.apply_box(b) for b in exclude], scale / factor, settings)
        to_full = to_small.inverse()
        return [to_full.apply_box(b) for b in boxes]
    return _propose(rgb, exclude, scale, settings)


def _propose(rgb: np.ndarray, exclude: Iterable[Box], scale: float, settings: Settings) -> list[Box]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, kernel)
    blocked = np.zeros(gray.shape, bool)
    for box in exclude:
        # Clipped first: a box beyond the left or top edge would otherwise give negative slice ends, which count back
        # from the far edge and block most of the image.
        x1, y1, x2, y2 = box.clip(gray.shape[1], gray.shape[0]).to_ints()
        blocked[y1:y2, x1:x2] = True
    lo, hi = settings.min_side * scale, settings.max_side * scale
    found: list[tuple[float, Box]] = []
    for contrast in settings.contrasts:
        ink = (gradient >= contrast).astype(np.uint8)
        seen = blocked.copy()  # found at a lower contrast, or text
        for _, box in found:
            x1, y1, x2, y2 = box.to_ints()
            seen[y1:y2, x1:x2] = True
        for gap in settings.gaps:
            k = max(1, round(gap * scale))
            joined = cv2.dilate(ink, np.ones((k, k), np.uint8))
            _, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
            for x, y, w, h, _ in stats[1:]:
                # The dilation grew the blob by k-1 pixels in total along each axis; take that back.
                x, y, w, h = x + (k - 1) / 2, y + (k - 1) / 2, w - (k - 1), h - (k - 1)
                if not (lo <= max(w, h) <= hi and min(w, h) >= lo * 0.5):
                    continue
                if max(w, h) / max(1.0, min(w, h)) > settings.max_aspect:
                    continue
                if seen[int(y + h / 2), int(x + w / 2)]:
                    continue
                squareness = min(w, h) / max(w, h)
                found.append((squareness, Box(x, y, x + w, y + h)))
    found.sort(key=lambda item: -item[0])
    return _distinct([box for _, box in found])[: settings.limit]


def _distinct(boxes: list[Box], overlap: float = 0.7) -> list[Box]:
    """Drop boxes that nearly coincide with one kept before them (both dilations often find the same icon)."""
    kept: list[Box] = []
    grid: dict[tuple[int, int], list[Box]] = {}
    for box in boxes:
        cell = (int(box.center.x // 64), int(box.center.y // 64))
        near = [b for dx in (-1, 0, 1) for dy in (-1, 0, 1) for b in grid.get((cell[0] + dx, cell[1] + dy), ())]
        if any(box.iou(other) > overlap for other in near):
            continue
        kept.append(box)
        grid.setdefault(cell, []).append(box)
    return kept

