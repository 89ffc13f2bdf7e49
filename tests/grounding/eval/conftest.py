"""Shared by the eval tests: a real, deterministic grounder and small ScreenSpot-format datasets built from real
screenshots with coloured markers drawn on them.

The marker grounder reads a colour from the instruction ("the #ff00fe marker") and finds the pixels of exactly that
colour with numpy; its answer is the box of those pixels and the box's centre, so the expected score of every sample
follows from where the markers were drawn.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import grounding
from grounding import Box, Prediction
from grounding.inputs import prepare
from tests.conftest import REPO

MARKER = 21  # marker side in pixels: its box is [x, x + 21), centre x + 10.5


def real_screenshots(count: int, max_pixels: int = 1920 * 1080) -> list[Path]:
    """Real screenshots from samples/ (committed) or the dev benchmark beside the repo, smallest first."""
    found = []
    for root in (REPO / "samples", REPO.parent / "shared" / "bench" / "dev" / "images"):
        for path in sorted(root.rglob("*.png")) if root.is_dir() else []:
            with Image.open(path) as image:
                if image.width * image.height <= max_pixels:
                    found.append(path)
    return found[:count]


class MarkerGrounder:
    """Finds the marker whose colour the instruction names. Counts calls and the distinct image objects it saw."""

    name = "test-marker"
    _colour = re.compile(r"#([0-9a-f]{6})")

    def __init__(self, delay_s: float = 0.0, interrupt_after: int | None = None, fail_on: str | None = None):
        self.delay_s = delay_s
        self.interrupt_after = interrupt_after
        self.fail_on = fail_on
        self.calls = 0
        self.images_seen: dict[int, Image.Image] = {}  # kept alive, so ids stay distinct
        self._lock = threading.Lock()
        self._packed: tuple[int, np.ndarray] | None = None  # the last image, one int per pixel

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        with self._lock:
            self.calls += 1
            self.images_seen[id(image)] = image
            if self.interrupt_after is not None and self.calls > self.interrupt_after:
                raise KeyboardInterrupt
        image, instruction = prepare(image, instruction)
        if self.fail_on and self.fail_on in instruction:
            raise ValueError(f"cannot handle {instruction!r}")
        time.sleep(self.delay_s)
        match = self._colour.search(instruction.lower())
        if not match:
            return Prediction.wrong_format(raw=instruction)
        ys, xs = np.nonzero(self._pixels(image) == int(match.group(1), 16))
        if len(xs) == 0:
            return Prediction.not_found(raw=f"no {match.group(0)} pixels")
        box = Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        return Prediction(point=box.center, box=box, score=1.0, raw=f"box {list(box)}")


    def _pixels(self, image: Image.Image) -> np.ndarray:
        """Per-image cache: the runner hands every instruction of a screenshot the same image back to back."""
        cached = self._packed
        if cached is None or cached[0] != id(image):
            rgb = np.asarray(image).astype(np.int32)
            cached = (id(image), (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
            self._packed = cached
        return cached[1]


class BatchMarkerGrounder(MarkerGrounder):
    """The same answers through `locate_batch`, recording the batch sizes it was given."""

    name = "test-marker-batch"
    batch_size = 8

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches: list[int] = []

    def locate_batch(self, images, instructions):
        self.batches.append(len(images))
        return [MarkerGrounder.locate(self, im, text) for im, text in zip(images, instructions)]


@grounding.register("test-marker", description="finds a drawn marker of the colour the instruction names (tests)")
def _marker_factory(delay_s: float = 0.0, interrupt_after: int | None = None) -> MarkerGrounder:
    return MarkerGrounder(delay_s=delay_s, interrupt_after=interrupt_after)


@dataclass(frozen=True)
class Planted:
    """One sample of a built dataset and the correctness it must get."""

    id: str
    image: str  # relative image path
    instruction: str
    box: Box  # the truth box, xyxy
    expected: str  # correct | wrong | wrong_format
    ui_type: str
    size: tuple[int, int]


def _free_colours(arrays: list[np.ndarray], count: int) -> list[tuple[int, int, int]]:
    """Colours that occur in none of the screenshots, so only the drawn markers have them."""
    used = set()
    for array in arrays:
        flat = array.reshape(-1, 3).astype(np.int64)
        used |= set(np.unique(flat[:, 0] * 65536 + flat[:, 1] * 256 + flat[:, 2]).tolist())
    rng = np.random.default_rng(7)
    colours: list[tuple[int, int, int]] = []
    while len(colours) < count:
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        if c[0] * 65536 + c[1] * 256 + c[2] not in used and c not in colours:
            colours.append(c)
    return colours


def plant(screens: list[Path], images_dir: Path, prefix: str) -> list[Planted]:
    """Copies the screenshots into images_dir with markers drawn, and returns samples covering every outcome:
    a truth box equal to the marker (correct), one whose right edge is exactly the answer's x (correct: edges count),
    one a tenth of a pixel short of it (wrong), one elsewhere (wrong), and a colour never drawn (wrong_format)."""
    arrays = [np.asarray(Image.open(p).convert("RGB")) for p in screens]
    colours = _free_colours(arrays, 4 * len(screens) + 1)
    absent = colours.pop()
    samples: list[Planted] = []
    for k, (path, array) in enumerate(zip(screens, arrays)):
        image = Image.fromarray(array)
        w, h = image.size
        draw = ImageDraw.Draw(image)
        name = f"{prefix}/{path.stem}_{k}.png"
        # Markers spread over the screen; some on the right half, so corner-stored boxes betray themselves.
        spots = [(int(w * fx), int(h * fy)) for fx, fy in ((0.1, 0.2), (0.6, 0.5), (0.85, 0.8), (0.3, 0.9))]
        for j, (x, y) in enumerate(spots):
            colour = colours[4 * k + j]
            draw.rectangle((x, y, x + MARKER - 1, y + MARKER - 1), fill=colour)
            hexed = "#{:02x}{:02x}{:02x}".format(*colour)
            centre = x + MARKER / 2
            marker = Box(x, y, x + MARKER, y + MARKER)
            truth, expected = {
                0: (marker, "correct"),
                1: (Box(x - 30, y - 5, centre, y + 30), "correct"),  # right edge exactly at the answer
                2: (Box(x - 30, y - 5, centre - 0.1, y + 30), "wrong"),
                3: (Box(x + 200 if x + 260 < w else x - 260, y, (x + 250) if x + 260 < w else x - 210, y + 20),
                    "wrong"),
            }[j]
            samples.append(Planted(f"{prefix}_{k}_{j}", name, f"click the {hexed} marker", truth, expected,
                                   "icon" if j % 2 else "text", (w, h)))
        samples.append(Planted(f"{prefix}_{k}_absent", name, "click the #{:02x}{:02x}{:02x} marker".format(*absent),
                               Box(10, 10, 60, 40), "wrong_format", "text", (w, h)))
        target = images_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, compress_level=1)
    return samples


def write_pro(root: Path, screens: list[Path], apps=("paint_windows", "editor_linux")) -> list[Planted]:
    """A ScreenSpot-Pro layout: annotations/<app>.json (xyxy, img_size, group...) + images/<app>/."""
    planted: list[Planted] = []
    (root / "annotations").mkdir(parents=True)
    halves = [screens[i::len(apps)] for i in range(len(apps))]
    for app, shots in zip(apps, halves):
        samples = plant(shots, root / "images", app)
        rows = [{
            "img_filename": s.image, "bbox": list(s.box), "instruction": s.instruction, "instruction_cn": "",
            "id": s.id, "application": app.split("_")[0], "platform": app.split("_")[1], "img_size": list(s.size),
            "ui_type": s.ui_type, "group": "Creative" if app.startswith("paint") else "Dev",
        } for s in samples]
        (root / "annotations" / f"{app}.json").write_text(json.dumps(rows))
        planted += samples
    return planted


def write_v1(root: Path, screens: list[Path], filename: str, corners: bool = False) -> list[Planted]:
    """A ScreenSpot v1/v2 layout: one split file with [x, y, w, h] boxes (or corners, as some mirrors store)."""
    samples = plant(screens, root / "screenspot_imgs", "shots")
    rows = [{
        "img_filename": s.image, "instruction": s.instruction, "data_type": s.ui_type, "data_source": "linux",
        "bbox": list(s.box) if corners else [s.box.x1, s.box.y1, s.box.width, s.box.height],
    } for s in samples]
    (root / filename).write_text(json.dumps(rows))
    return samples
