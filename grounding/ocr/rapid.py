"""RapidOCR's PP-OCR detector and recogniser, run on sessions we create, with a lighter input step for the detector.

RapidOCR's own classes build an ONNX Runtime session in their constructor; we want ours (`grounding.runtime`: threads,
no spinning, an arena that shrinks after each run), so these subclasses take a ready session instead of building one
that would be thrown away. The detector's input normalisation goes through a 256-entry table computed by RapidOCR's
own arithmetic: the same float32 values, without the float64 copies of the whole frame that its `DetPreProcess` makes
(a gigabyte on a 5K screen).
Importing this module imports RapidOCR (and OpenCV); `engine` imports it on first use.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import cv2
import numpy as np
from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

from grounding.runtime import Session


class _DetectorInput:
    """RapidOCR's `DetPreProcess` as `TextDetector` sets it up for limit_type "max", RGB in, BGR planes out.

    Whatever limit it is configured with, `TextDetector.get_preprocess` shrinks a frame whose longer side exceeds 2000
    pixels to 2000 (so a "full-size" pass over a 4K frame looks at it at 2000 pixels); sides round to multiples of 32.
    """

    LIMIT = 2000

    def __init__(self, mean: list[float], std: list[float]) -> None:
        levels = np.arange(256, dtype=np.uint8).reshape(1, 256, 1).repeat(3, axis=2)
        # Exactly DetPreProcess.normalize (float32 scaled, float64 mean and std, cast back to float32 at the end).
        self.table = ((levels.astype("float32") * (1 / 255.0) - np.array(mean)) / np.array(std)).astype(np.float32)

    def size(self, w: int, h: int) -> tuple[int, int]:
        """The size the network sees a w x h frame at."""
        ratio = self.LIMIT / max(h, w) if max(h, w) > self.LIMIT else 1.0
        return int(round(int(w * ratio) / 32) * 32), int(round(int(h * ratio) / 32) * 32)

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        size = self.size(w, h)
        if size[0] <= 0 or size[1] <= 0:
            return None
        if size != (w, h):
            rgb = cv2.resize(rgb, size)
        out = np.empty((1, 3, size[1], size[0]), np.float32)
        for channel in range(3):  # BGR planes, as the PP-OCR models were trained
            out[0, channel] = self.table[0, :, channel][rgb[:, :, 2 - channel]]
        return out


class Detector(TextDetector):
    """`detector(rgb)` -> the text quadrilaterals (int32 [N, 4, 2]) in the pixels of the RGB array passed in."""

    max_side = _DetectorInput.LIMIT // 32 * 32  # the longest side it sees at its own size

    def __init__(self, config: dict[str, Any], session: Session) -> None:  # not super().__init__: it builds one
        self.postprocess_op = DBPostProcess(
            thresh=config.get("thresh", 0.3),
            box_thresh=config.get("box_thresh", 0.5),
            max_candidates=config.get("max_candidates", 1000),
            unclip_ratio=config.get("unclip_ratio", 1.6),
            use_dilation=config.get("use_dilation", True),
            score_mode=config.get("score_mode", "fast"),
        )
        self.infer = session
        self.preprocess_op = _DetectorInput(config["mean"], config["std"])

    def get_preprocess(self, max_wh: int) -> _DetectorInput:
        return self.preprocess_op

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        return self.preprocess_op.size(width, height)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        boxes, _ = super().__call__(rgb)
        return np.zeros((0, 4, 2), np.int32) if boxes is None or len(boxes) == 0 else boxes


class Recognizer(TextRecognizer):
    """RapidOCR's recogniser on the given session: `recognizer(bgr crops)` -> (text, confidence, word columns) each.

    RapidOCR pads every crop of a batch to the widest crop in it, and the model reads a crop a little differently
    with more padding beside it, so a box's reading depended on which boxes were read with it ("This data as json,
    CSV" read as "...Csy" in one company, "...CSV" in another). Here each crop is padded to a width set by its own
    aspect ratio, and only crops padded alike share a batch: a box reads the same whatever else is read, whenever it
    is read.
    RapidOCR also pads every crop to at least 320 pixels (6.7 heights), while most of a screen's boxes are single
    words and short labels of 1-4 heights: reading each at its own width (`NARROWEST`) took 0.62 of the time over the
    dev screenshots. At its own width the model tends to take the letter before a trailing ellipsis for one more dot
    ("Page Styl...." for "Page Style...", menu items that open a dialog), so such a reading is read again at the
    320 pixels it was trained at: the dev set's text targets then read exactly 343 times in 377, against 345 with
    every crop padded so and 340 without the second look.
    """

    NARROWEST = 2  # heights: a one-character crop still gets a few CTC columns either side of its glyph
    _ELLIPSIS = re.compile(r"(\.\.|\u2026)$")

    def __init__(self, config: dict[str, Any], session: Session) -> None:  # not super().__init__: it builds one
        self.session = session
        characters = session.metadata["character"].splitlines()
        self.postprocess_op = CTCLabelDecode(character=characters)
        self.rec_batch_num = config["rec_batch_num"]
        self.rec_image_shape = config["rec_img_shape"]
        _, height, width = self.rec_image_shape
        self.trained_ratio = width / height  # 320 / 48

    def __call__(self, crops: list[np.ndarray], return_word_box: bool = True) -> list[tuple]:  # type: ignore[override]
        out = self._read(crops, self.NARROWEST, return_word_box)
        again = [i for i, reading in enumerate(out) if self._ELLIPSIS.search(reading[0].rstrip())]
        for i, reading in zip(again, self._read([crops[i] for i in again], self.trained_ratio, return_word_box)):
            out[i] = reading
        return out

    def _read(self, crops: list[np.ndarray], narrowest: float, return_word_box: bool) -> list[tuple]:
        """Each crop padded to the next whole multiple of its height, at least `narrowest` heights."""
        ratios = [crop.shape[1] / crop.shape[0] for crop in crops]
        padded = [max(narrowest, math.ceil(ratio)) for ratio in ratios]
        out: list[tuple] = [("", 0.0)] * len(crops)
        order = sorted(range(len(crops)), key=lambda i: (padded[i], ratios[i]))
        for ratio, same in itertools.groupby(order, key=padded.__getitem__):
            alike = list(same)
            for start in range(0, len(alike), self.rec_batch_num):
                batch = alike[start : start + self.rec_batch_num]
                pixels = np.stack([self.resize_norm_img(crops[i], ratio) for i in batch]).astype(np.float32)
                readings = self.postprocess_op(
                    self.session(pixels)[0], return_word_box,
                    wh_ratio_list=[ratios[i] for i in batch], max_wh_ratio=ratio,
                )
                for i, reading in zip(batch, readings):
                    out[i] = reading
        return out
