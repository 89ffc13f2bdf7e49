"""The shipped icon model: the image encoder (ONNX) and the projected word vectors, loaded once per process."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.errors import BackendError

from .crops import normalise
from .text import Vocabulary

ASSETS = Path(__file__).resolve().parent / "assets"
BATCH = 256


@dataclass(frozen=True)
class IconModel:
    session: object  # onnxruntime.InferenceSession
    vocabulary: Vocabulary
    background: np.ndarray  # where clutter (text strokes, rules, frame corners) embeds

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """Unit vectors [N, D] of uint8 crops [N, INPUT, INPUT, 3]."""
        parts = [
            self.session.run(None, {"crops": normalise(crops[i : i + BATCH])})[0] for i in range(0, len(crops), BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.background.shape[0]), np.float32)


_lock = threading.Lock()
_model: IconModel | None = None


def load() -> IconModel:
    global _model
    with _lock:
        if _model is None:
            try:
                import onnxruntime
            except ImportError as exc:
                raise BackendError(f"the icon grounder needs onnxruntime: {exc}") from None
            encoder, words = ASSETS / "encoder.onnx", ASSETS / "words.npz"
            if not (encoder.is_file() and words.is_file()):
                raise BackendError(
                    f"icon model files are missing under {ASSETS}; rebuild them with `python -m grounding.icons.train all`"
                )
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(str(encoder), options, providers=["CPUExecutionProvider"])
            with np.load(words) as data:
                background = data["background"].astype(np.float32)
            _model = IconModel(session, Vocabulary.load(words), background)
        return _model
