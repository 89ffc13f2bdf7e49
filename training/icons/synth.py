"""Training samples: a rendered icon dressed as it appears on screens, then cut exactly as the runtime cuts crops.

Each sample draws a size (12-48 px), light or dark theme, ink colour (recoloured unless the icon has its own
colours), a disabled look, hover/pressed backgrounds, button frames, toolbar neighbours or a text label beside it,
blur and JPEG, and a crop whose side and centre jitter around the runtime's. About one sample in ten is clutter
(text-like strokes, rules, frame corners, gradients) labelled "background", so junk regions learn to match no name.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np

from grounding.icons.crops import PAD, cut, square

BACKGROUND = -1  # label of clutter samples


def _colour(rng: np.random.Generator, dark: bool) -> np.ndarray:
    grey = rng.uniform(18, 70) if dark else rng.uniform(215, 255)
    tint = rng.normal(0, 6 if rng.random() < 0.7 else 20, 3)
    return np.clip(grey + tint, 0, 255)


def _ink(rng: np.random.Generator, bg: np.ndarray) -> np.ndarray:
    dark_bg = bg.mean() < 128
    if rng.random() < 0.25:  # an accent colour (links, primary buttons, status icons)
        hue = rng.uniform(0, 180)
        hsv = np.uint8([[[hue, rng.uniform(120, 255), rng.uniform(150, 255) if dark_bg else rng.uniform(90, 200)]]])
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
    grey = rng.uniform(170, 250) if dark_bg else rng.uniform(0, 110)
    return np.full(3, grey, np.float32)


def _glyph(tile: np.ndarray, size: int, mono: bool, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rgb float [s,s,3], alpha float [s,s]) of the tile shrunk to `size`."""
    small = cv2.resize(tile, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = small[..., 3] / 255.0
    if mono:
        rgb = np.broadcast_to(ink, small.shape[:2] + (3,))
    else:  # premultiplied resize, so transparent edges do not darken
        premul = cv2.resize(tile[..., :3].astype(np.float32) * (tile[..., 3:] / 255.0), (size, size),
                            interpolation=cv2.INTER_AREA)
        rgb = premul / np.maximum(alpha[..., None], 1e-3)
    return rgb, alpha


def _paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = alpha.shape
    H, W = canvas.shape[:2]
    x1, y1, x2, y2 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x2 <= x1 or y2 <= y1:
        return
    a = alpha[y1 - y : y2 - y, x1 - x : x2 - x, None]
    canvas[y1:y2, x1:x2] = canvas[y1:y2, x1:x2] * (1 - a) + rgb[y1 - y : y2 - y, x1 - x : x2 - x] * a


def _text_strokes(rng, canvas: np.ndarray, x: int, y: int, height: int, length: int, ink: np.ndarray) -> None:
    """Letter-like strokes, so a label beside an icon (or a stray word) is familiar clutter."""
    mask = np.zeros(canvas.shape[:2], np.uint8)
    pos = x
    while pos < x + length:
        glyph = chr(int(rng.integers(33, 127)))
        cv2.putText(mask, glyph, (pos, y + height), cv2.FONT_HERSHEY_SIMPLEX, max(0.3, height / 30), 255,
                    max(1, round(height / 12)), cv2.LINE_AA)
        pos += int(height * rng.uniform(0.5, 0.8))
    _paste(canvas, np.broadcast_to(ink, canvas.shape), mask / 255.0, 0, 0)


def _clutter(rng, canvas: np.ndarray, size: int, ink: np.ndarray) -> None:
    c = canvas.shape[0] // 2
    kind = rng.integers(0, 4)
    if kind == 0:
        _text_strokes(rng, canvas, c - size, c - size // 2, size, 2 * size, ink)
    elif kind == 1:  # rules and frame edges
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.5:
                yy = c + int(rng.integers(-size, size))
                cv2.line(canvas, (0, yy), (canvas.shape[1], yy), ink.tolist(), 1)
            else:
                xx = c + int(rng.integers(-size, size))
                cv2.line(canvas, (xx, 0), (xx, canvas.shape[0]), ink.tolist(), 1)
    elif kind == 2:  # corner of a box or input field
        x1, y1 = c + int(rng.integers(-size, 0)), c + int(rng.integers(-size, 0))
        cv2.rectangle(canvas, (x1, y1), (x1 + 3 * size, y1 + 3 * size), ink.tolist(), 1)
    else:  # one character or digit on its own
        _text_strokes(rng, canvas, c - size // 3, c - size // 2, size, 1, ink)


def sample(rng: np.random.Generator, tiles: np.ndarray, mono: np.ndarray, index: int) -> np.ndarray:
    """One uint8 INPUT x INPUT x 3 crop of icon `index` (or of clutter when index is BACKGROUND)."""
    size = round(math.exp(rng.uniform(math.log(12), math.log(48))))
    dark = rng.random() < 0.35
    bg = _colour(rng, dark)
    ink = _ink(rng, bg)
    side = 4 * size
    canvas = np.empty((side, side, 3), np.float32)
    canvas[:] = bg
    if rng.random() < 0.15:  # a vertical gradient (toolbars, headers)
        canvas += np.linspace(-1, 1, side, dtype=np.float32)[:, None, None] * rng.uniform(4, 20)
    c = side // 2
    if rng.random() < 0.3:  # hover / pressed / selected background
        r = int(size * rng.uniform(0.65, 1.0))
        shade = np.clip(bg + rng.choice([-1, 1]) * rng.uniform(10, 45), 0, 255)
        cv2.rectangle(canvas, (c - r, c - r), (c + r, c + r), shade.tolist(), -1)
    if rng.random() < 0.12:  # a button frame
        r = int(size * rng.uniform(0.7, 1.1))
        cv2.rectangle(canvas, (c - r, c - r), (c + r, c + r), _ink(rng, bg).tolist(), 1)
    if rng.random() < 0.45:  # toolbar neighbours
        gap = int(size * rng.uniform(1.1, 1.8))
        horizontal = rng.random() < 0.75
        for direction in (-1, 1):
            if rng.random() < 0.7:
                other = int(rng.integers(len(tiles)))
                rgb, alpha = _glyph(tiles[other], size, bool(mono[other]), ink)
                dx, dy = (direction * gap, 0) if horizontal else (0, direction * gap)
                _paste(canvas, rgb, alpha, c - size // 2 + dx, c - size // 2 + dy)
    if rng.random() < 0.15:  # a label to the right
        _text_strokes(rng, canvas, c + int(size * 0.8), c - size // 3, max(6, int(size * 0.6)), side, ink)
    if index == BACKGROUND:
        _clutter(rng, canvas, size, ink)
        ink_box = (c - size // 2, c - size // 2, c + size // 2, c + size // 2)
    else:
        rgb, alpha = _glyph(tiles[index], size, bool(mono[index]), ink)
        if rng.random() < 0.1:  # disabled
            alpha = alpha * rng.uniform(0.35, 0.6)
        x, y = c - size // 2 + int(rng.integers(-1, 2)), c - size // 2 + int(rng.integers(-1, 2))
        _paste(canvas, rgb, alpha, x, y)
        ys, xs = np.nonzero(alpha > 0.2)
        if len(xs) == 0:
            ink_box = (x, y, x + size, y + size)
        else:
            ink_box = (x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.3, 0.8))
    if rng.random() < 0.1:
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))])
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    x1, y1, x2, y2 = ink_box
    longer = max(x2 - x1, y2 - y1, 4)
    crop_side = longer * PAD * math.exp(rng.normal(0, 0.15))
    jitter = rng.normal(0, 0.05, 2) * crop_side
    return cut(image, [square((x1 + x2) / 2 + jitter[0], (y1 + y2) / 2 + jitter[1], crop_side)])[0]


_shared: dict[str, np.ndarray] = {}


def _start_worker(tiles: np.ndarray, mono: np.ndarray) -> None:
    cv2.setNumThreads(1)
    _shared.update(tiles=tiles, mono=mono)


def _generate(args: tuple[np.ndarray, int]) -> np.ndarray:
    indexes, seed = args
    rng = np.random.default_rng(seed)
    return np.stack([sample(rng, _shared["tiles"], _shared["mono"], int(i)) for i in indexes])


def generate(tiles: np.ndarray, mono: np.ndarray, indexes: np.ndarray, seed: int, workers: int = 2) -> np.ndarray:
    """Crops [len(indexes), INPUT, INPUT, 3] for the given icon indexes (BACKGROUND for clutter).

    The same seed gives the same crops whatever `workers` is: the work is cut into fixed parts, each seeded by its
    position. With more than one worker the parts run in processes started by a fork server, since forking a process
    that already runs threads (ONNX Runtime, OpenCV, torch) can deadlock the child.
    """
    parts = np.array_split(indexes, max(1, len(indexes) // 2000))
    jobs = [(part, seed * 100_003 + i) for i, part in enumerate(parts)]
    if workers <= 1:
        _start_worker(tiles, mono)
        return np.concatenate([_generate(job) for job in jobs])
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(tiles, mono)) as pool:
        return np.concatenate(list(pool.map(_generate, jobs)))
