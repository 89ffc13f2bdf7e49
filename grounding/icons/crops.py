"""Cutting icon crops out of an image the same way at training and at run time.

A crop is a square around an icon's ink, `PAD` times its longer side, resized to INPUT x INPUT. The encoder sees each
crop normalised by its own mean and spread, so light and dark themes and any tint look alike to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

INPUT = 32
PAD = 1.45  # crop side / ink side at run time; training draws it from a range around this


def square(cx: float, cy: float, side: float) -> tuple[int, int, int, int]:
    half = max(2.0, side / 2)
    return (round(cx - half), round(cy - half), round(cx + half), round(cy + half))


def cut(image: np.ndarray, boxes: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    """uint8 crops [N, INPUT, INPUT, 3] of an RGB array; parts outside the image repeat its edge."""
    h, w = image.shape[:2]
    out = np.empty((len(boxes), INPUT, INPUT, 3), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        patch = image[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)]
        pads = (max(0, -y1), max(0, y2 - h), max(0, -x1), max(0, x2 - w))
        if any(pads):
            patch = cv2.copyMakeBorder(patch, *pads, cv2.BORDER_REPLICATE)
        shrink = patch.shape[0] > INPUT
        out[i] = cv2.resize(patch, (INPUT, INPUT), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out


def normalise(crops: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W], each crop centred on its mean and scaled by its spread."""
    x = crops.astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return np.ascontiguousarray(((x - mean) / (std + 8.0)).transpose(0, 3, 1, 2))
