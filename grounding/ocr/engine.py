"""RapidOCR's PP-OCR detector and recogniser, driven for screenshots.

Screens differ from photos: text is horizontal, crisp and often tiny, and a 4K frame holds hundreds of lines. So we
skip the orientation classifier, run the detector on a downscaled frame (a 2x-scaled 4K screen's text survives it;
a 1x one gets a second pass at its native size, in overlapping tiles the detector takes without shrinking them, each
detected only when a reading needs it: `Screen.detect`), and cut the recogniser's crops from the full-resolution
frame, so small text is still read at its native size.
Model sessions are built once per process, on first use; importing this module does not import onnxruntime.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from grounding import memory
from grounding.errors import BackendError
from grounding.geometry import Box, Transform, cover
from grounding.runtime import Session, threads

# Part of the OCR cache's keys: a reading made by an earlier way of detecting or recognising is not reused.
READING = "tiled-narrow-2"


@dataclass(frozen=True)
class Word:
    """A run of characters without spaces, with its box in image pixels."""

    text: str
    box: Box


@dataclass(frozen=True)
class Line:
    """One detected text line: what the recogniser read, its confidence, and where each character sits.

    `centers` holds the x of every character of `text` (spaces included), estimated from the recogniser's CTC
    columns, so a word or a piece of a word glued to its neighbour ("FileEdit") can be boxed on its own.
    """

    text: str
    box: Box
    confidence: float
    centers: tuple[float, ...]

    @property
    def char_width(self) -> float:
        visible = [x for x, c in zip(self.centers, self.text) if not c.isspace()]
        if len(visible) < 2:
            return self.box.width / max(1, len(self.text))
        return (visible[-1] - visible[0]) / (len(visible) - 1)

    def span_box(self, start: int, end: int) -> Box:
        """The box of characters text[start:end]."""
        half = self.char_width / 2
        x1 = max(self.box.x1, self.centers[start] - half)
        x2 = min(self.box.x2, self.centers[end - 1] + half)
        return Box(x1, self.box.y1, max(x1, x2), self.box.y2)

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(Word(self.text[a:b], self.span_box(a, b)) for a, b in word_spans(self.text))


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every whitespace-separated word."""
    spans, start = [], None
    for i, char in enumerate(text + " "):
        if not char.isspace() and start is None:
            start = i
        elif char.isspace() and start is not None:
            spans.append((start, i))
            start = None
    return spans


_lock = threading.Lock()
_models: tuple[object, object] | None = None


# Detector runs at once: each already uses `threads()` cores, and a pass at 1920 pixels takes about 370 MB of
# activations, so more concurrent runs (the zoom loop's tiles, eval workers) only add memory, not speed.
_detecting = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) // threads()))


def models() -> tuple[object, object]:
    """The (detector, recogniser) pair, created once per process."""
    global _models
    with _lock:
        if _models is None:
            try:
                from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH, read_yaml, update_model_path

                from .rapid import Detector, Recognizer
            except ImportError as exc:
                raise BackendError(f"the ocr grounder needs rapidocr-onnxruntime: {exc}") from None
            config = update_model_path(read_yaml(str(DEFAULT_CFG_PATH)))
            _models = (
                Detector(config["Det"], Session(config["Det"]["model_path"], "the ocr grounder")),
                Recognizer(config["Rec"], Session(config["Rec"]["model_path"], "the ocr grounder")),
            )
        return _models


# At import, before eval's and the zoom loop's threads start: a thread that already has a heap keeps it.
memory.keep_heaps_small()


@dataclass(frozen=True)
class Detection:
    """Text line boxes in image pixels, and the scale (detector pixels per image pixel, x and y) they were found at.

    `pending`: tiles of the image, at its own size, still to be detected (`find_text(lazy=True)`); `boxes` then holds
    none of their text.
    """

    boxes: tuple[Box, ...]
    scale: tuple[float, float]
    pending: tuple[Box, ...] = ()


def detect(image: Image.Image, max_side: int) -> Detection:
    """Text line boxes in `image` pixels, detected on a copy whose longer side is at most `max_side`."""
    view, to_image = _downscaled(image, max_side)
    return _detected(view, to_image, image.size)


def detect_in(image: Image.Image, region: Box, scale: tuple[float, float]) -> list[Box]:
    """Text line boxes inside `region` of `image`, detected at `scale`, the scale of a whole-image `Detection`, so the
    part of a screen that changed is read as a pass over the whole screen would read it."""
    x1, y1, x2, y2 = region.clip(*image.size).to_ints()
    crop = image.crop((x1, y1, x2, y2))
    size = (max(32, round(crop.width * scale[0] / 32) * 32), max(32, round(crop.height * scale[1] / 32) * 32))
    view = crop if size == crop.size else crop.resize(size, Image.Resampling.BILINEAR)
    to_image = Transform.between_sizes(view.size, crop.size).then(Transform.translate(x1, y1))
    return list(_detected(view, to_image, image.size).boxes)


# Taller than any line of text a screen shows. Neighbouring tiles share this many pixels, so a line cut by one tile's
# edge lies whole inside its neighbour, or its two pieces overlap and are joined.
TALLEST_LINE = 96


def _detected(view: Image.Image, to_image: Transform, size: tuple[int, int]) -> Detection:
    """Line boxes in `view`, mapped to image pixels: in one pass when the detector takes the view without shrinking
    it, else in overlapping tiles at the view's own size (a detector that shrank a 1x 4K screen would lose its text)."""
    detector, _ = models()
    pixels = np.asarray(view)
    tiles = full_size_tiles(view.size)
    found = [(index, box) for index, tile in enumerate(tiles) for box in _in_tile(pixels, tile)]
    boxes = tuple(to_image.apply_box(_line_box(line)).clip(*size) for line in _joined(found))
    width, height = detector.input_size(*view.size) if len(tiles) == 1 else view.size
    return Detection(boxes, (width / size[0], height / size[1]))


def full_size_tiles(size: tuple[int, int]) -> list[Box]:
    """The tiles an image of this size is detected in at its own size (one when the detector takes it whole)."""
    return cover(size, models()[0].max_side, TALLEST_LINE, 32)


def _in_tile(pixels: np.ndarray, tile: Box) -> list[Box]:
    """Line boxes the detector finds in one tile of a frame, in the frame's pixels."""
    detector, _ = models()
    x1, y1, x2, y2 = tile.to_ints()
    with _detecting:
        quads = detector(pixels[y1:y2, x1:x2])
        # The detector's activations (about 370 MB at 1920 pixels) were freed, but glibc keeps such blocks in the
        # heap of the thread that freed them, and the zoom loop reads tiles in threads of their own: hand them
        # back now, or a process that read one 5K screen stays at its peak (a few milliseconds per detection).
        memory.trim()
    return [
        Box(float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1)
        for xs, ys in ((quad[:, 0] + x1, quad[:, 1] + y1) for quad in quads)
    ]


def _joined(found: Sequence[tuple[Hashable, Box]]) -> list[list[tuple[Hashable, Box]]]:
    """Boxes found in overlapping tiles, (tile, box), grouped into lines: two boxes from different tiles that overlap
    on one row are pieces of one line."""
    parent = list(range(len(found)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_left = sorted(range(len(found)), key=lambda k: found[k][1].x1)
    for place, i in enumerate(by_left):
        tile_i, a = found[i]
        for j in by_left[place + 1 :]:
            tile_j, b = found[j]
            if b.x1 >= a.x2:
                break  # every later box starts further right
            shared = a.intersection(b)
            if tile_i != tile_j and shared is not None and shared.height >= 0.5 * min(a.height, b.height):
                parent[root(j)] = root(i)
    groups: dict[int, list[tuple[Hashable, Box]]] = {}
    for i, piece in enumerate(found):
        groups.setdefault(root(i), []).append(piece)
    return list(groups.values())


def _line_box(pieces: Sequence[tuple[Hashable, Box]]) -> Box:
    return Box.union_of(box for _, box in pieces)


# A downscaled pass that finds few lines, or only small ones, on a big screen means the screen renders small text at
# 1x (a desktop app or an unzoomed page on a 4K monitor): such text vanishes at half size, so look again at full size
# (in tiles: RapidOCR's detector would shrink a frame over 2000 pixels, see `rapid._DetectorInput`).
_FEW_LINES = 20
_SMALL_TEXT = 16.5  # median detected line height, in pixels of the downscaled copy


def find_text(image: Image.Image, max_side: int, *, lazy: bool = False) -> Detection:
    """Text line boxes: one detection pass on a copy at most `max_side` wide, and one at full size when needed; a lazy
    full-size pass only lists the tiles it would detect (`Detection.pending`), for `Screen.detect` to do when asked."""
    found = detect(image, max_side)
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        heights = sorted(box.height * scale for box in found.boxes)
        if len(heights) < _FEW_LINES or heights[len(heights) // 2] < _SMALL_TEXT:
            tiles = full_size_tiles(image.size)
            if lazy and len(tiles) > 1:
                return Detection((), (1.0, 1.0), tuple(tiles))
            found = detect(image, max(image.size))
    return found


def _downscaled(image: Image.Image, max_side: int) -> tuple[Image.Image, Transform]:
    # Sides that are multiples of 32 are what the detector's backbone wants; rounding here avoids a second resize.
    scale = min(1.0, max_side / max(image.size))
    if scale == 1.0 and max(image.size) > models()[0].max_side:
        return image, Transform.identity()  # detected in tiles at its own size (`_detected`)
    w = max(32, round(image.width * scale / 32) * 32)
    h = max(32, round(image.height * scale / 32) * 32)
    if (w, h) == image.size:
        return image, Transform.identity()
    view = image.resize((w, h), Image.Resampling.BILINEAR)
    return view, Transform.between_sizes((w, h), image.size)


def recognize(image: Image.Image, boxes: Sequence[Box]) -> list[Line | None]:
    """Read each box from the full-resolution image: one Line per box, None where nothing legible was read."""
    _, recogniser = models()
    out: list[Line | None] = [None] * len(boxes)
    kept = [(i, Box(*box.to_ints())) for i, box in enumerate(boxes)]
    kept = [(i, box) for i, box in kept if box.width >= 2 and box.height >= 2]
    if not kept:
        return out
    # Only the part of the frame the boxes lie in becomes an array (a few lines of a 5K frame, not all of it).
    left, top, right, bottom = Box.union_of(box for _, box in kept).to_ints()
    array = np.asarray(image.crop((left, top, right, bottom)))[:, :, ::-1]  # the PP-OCR models were trained on BGR
    crops = [
        np.ascontiguousarray(array[int(b.y1) - top : int(b.y2) - top, int(b.x1) - left : int(b.x2) - left])
        for _, b in kept
    ]
    results = recogniser(crops, return_word_box=True)
    for (i, box), (text, confidence, info) in zip(kept, results):
        text, centers = _spaced(text, box, info)
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if text:
            out[i] = Line(text, box, float(confidence), centers[lead : lead + len(text)])
    return out


def _spaced(text: str, box: Box, info: list) -> tuple[str, tuple[float, ...]]:
    """The text with a space wherever the recogniser saw a gap but wrote none ("FileEdit" -> "File Edit" in a menu
    bar), and the x of each character: its CTC column scaled onto the crop width."""
    columns, groups, group_columns = info[0], info[1], info[2]
    if sum(len(g) for g in groups) != len(text) or columns <= 0:
        step = box.width / max(1, len(text))
        return text, tuple(box.x1 + step * (i + 0.5) for i in range(len(text)))
    cell = box.width / columns
    chars: list[str] = []
    centers: list[float] = []
    for group, cols in zip(groups, group_columns):
        if chars and not chars[-1].isspace() and not group[0].isspace():
            chars.append(" ")
            centers.append(box.x1 + (cols[0] + 0.5) * cell - cell)
        chars += group
        centers += [box.x1 + (c + 0.5) * cell for c in cols]
    return "".join(chars), tuple(centers)


@dataclass(frozen=True)
class Page:
    """Everything the OCR read on one screenshot, in its pixels."""

    size: tuple[int, int]
    lines: tuple[Line, ...]

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(word for line in self.lines for word in line.words)


class Screen:
    """The text boxes found on one screenshot, read on demand and remembered.

    Recognition costs as much as detection on a busy screen, and most instructions name a label whose width can be
    guessed from its length, so boxes are read when an instruction needs them rather than all at once. Safe to share
    between threads; the image is passed to `read` instead of being kept, so a cache of screens stays small.
    `scale` is the detection's (`Detection.scale`), so a later screen that differs in a few places can re-detect just
    those at the same scale (None when unknown: a reading from an older disk cache); `carried` counts the boxes taken
    over, with their readings, from such an earlier screen (see `changes`).

    A screen detected at full size in tiles may be detected a tile at a time, as the reading needs it (`pending`,
    `detect`): `boxes` holds the lines no pending tile can change, and `pieces` the (tile, box) finds that reach into
    a pending tile, which are joined with that tile's finds once it is detected. Boxes are only ever appended, so a
    box's index, and its reading, stay valid; the boxes of a screen detected whole are the same lines.
    """

    def __init__(
        self, size: tuple[int, int], boxes: Sequence[Box], lines: dict[int, Line | None] | None = None,
        scale: tuple[float, float] | None = None, carried: int = 0, pending: Sequence[Box] = (),
        pieces: Sequence[tuple[Box, Box]] = (),
    ):
        self.size = size
        self.boxes = tuple(boxes)
        self.scale = scale
        self.carried = carried
        self.pending = tuple(pending)
        self.pieces = tuple(pieces)
        self._lines: dict[int, Line | None] = dict(lines or {})
        self._lock = threading.Lock()

    @classmethod
    def detected(cls, image: Image.Image, max_side: int) -> Screen:
        """A new screen: its text boxes found (`find_text`; tiles at full size only listed, see `detect`), none read
        yet."""
        found = find_text(image, max_side, lazy=True)
        return cls(image.size, found.boxes, scale=found.scale, pending=found.pending)

    def waiting(self) -> dict[Box, Box]:
        """Each pending tile -> the region its lines can lie in: the tile and the pieces of lines reaching into it."""
        with self._lock:
            return {
                tile: Box.union_of([tile, *(box for _, box in self.pieces if box.intersection(tile) is not None)])
                for tile in self.pending
            }

    def detect(self, image: Image.Image, tiles: Sequence[Box] | None = None) -> int:
        """Detect these pending tiles (all when None); returns how many boxes that added."""
        with self._lock:
            wanted = [tile for tile in (self.pending if tiles is None else tiles) if tile in self.pending]
            if not wanted:
                return 0
            pixels = np.asarray(image)
            found = [*self.pieces, *((tile, box) for tile in wanted for box in _in_tile(pixels, tile))]
            self.pending = tuple(tile for tile in self.pending if tile not in wanted)
            done, pieces = [], []
            for line in _joined(found):
                box = _line_box(line)
                if any(box.intersection(tile) is not None for tile in self.pending):
                    pieces += line
                else:
                    done.append(box.clip(*self.size))
            self.boxes += tuple(sorted(done, key=lambda box: (box.y1, box.x1)))
            self.pieces = tuple(pieces)
            return len(done)

    def read_so_far(self) -> dict[int, Line | None]:
        """Box index -> what was read there (None: nothing legible), for the boxes read so far."""
        with self._lock:
            return dict(self._lines)

    def unread(self) -> list[int]:
        with self._lock:
            return [i for i in range(len(self.boxes)) if i not in self._lines]

    def read(self, image: Image.Image, indices: Sequence[int] | None = None) -> int:
        """Recognise these boxes (all, every pending tile detected first, when None) unless already read; returns how
        many were newly read."""
        if indices is None:
            self.detect(image)
        with self._lock:  # one reader at a time: a second thread wanting the same boxes waits, then finds them read
            wanted = [i for i in (range(len(self.boxes)) if indices is None else indices) if i not in self._lines]
            if wanted:
                for i, line in zip(wanted, recognize(image, [self.boxes[i] for i in wanted])):
                    self._lines[i] = line
            return len(wanted)

    def lines(self) -> tuple[Line, ...]:
        """The lines read so far."""
        with self._lock:
            return tuple(line for _, line in sorted(self._lines.items()) if line is not None)

    @property
    def complete(self) -> bool:
        with self._lock:
            return not self.pending and len(self._lines) == len(self.boxes)

    def page(self, image: Image.Image) -> Page:
        self.read(image)
        return Page(self.size, self.lines())

    def to_dict(self) -> dict:
        read = self.read_so_far()
        return {
            "size": list(self.size),
            "scale": list(self.scale) if self.scale else None,
            "boxes": [box.to_list() for box in self.boxes],
            "pending": [tile.to_list() for tile in self.pending],
            "pieces": [[tile.to_list(), box.to_list()] for tile, box in self.pieces],
            "read": {
                str(i): None if line is None else {
                    "text": line.text,
                    "box": line.box.to_list(),
                    "confidence": round(line.confidence, 4),
                    "centers": [round(x, 1) for x in line.centers],
                }
                for i, line in read.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> Screen:
        lines = {
            int(i): None if line is None else Line(
                line["text"], Box.of(line["box"]), float(line["confidence"]), tuple(float(x) for x in line["centers"])
            )
            for i, line in data["read"].items()
        }
        scale = data.get("scale")
        return cls(
            tuple(data["size"]), [Box.of(b) for b in data["boxes"]], lines, tuple(scale) if scale else None,
            pending=[Box.of(tile) for tile in data.get("pending", ())],
            pieces=[(Box.of(tile), Box.of(box)) for tile, box in data.get("pieces", ())],
        )
