"""The shipped icon model, loaded once per process: one or more snapshots of the trained encoder, each an ONNX image
encoder with its projected word vectors.

Snapshots taken at different points of training make different mistakes; their similarities are averaged (on the dev
set `offline` got 36.4% of the icon targets right with the three shipped snapshots, 34.7% with the best one alone).
A snapshot is `encoder<suffix>.onnx` + `words<suffix>.npz` under assets/ (`python -m training.icons export
--suffix ...`); every snapshot's word table covers the same vocabulary.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grounding.errors import BackendError
from grounding.memory import Remembered
from grounding.runtime import Session

from .crops import normalise
from .text import Vocabulary

ASSETS = Path(__file__).resolve().parent / "assets"
BATCH = 256
# An icon pictures one idea while an instruction often tells what it does in several words ("create and edit text
# objects" for the text tool), so a crop is as near to the instruction as to its nearest word, softly: on the dev set
# 34.3% of icon targets were right this way, 31.0% by the similarity to the mean of the words (same snapshots).
SOFTNESS = 0.1
# Crops whose vectors are kept (1.5 KB each with three snapshots): a few 4K screens' worth of proposals.
REMEMBERED_CROPS = 16384


@dataclass(frozen=True)
class Snapshot:
    session: Session
    vocabulary: Vocabulary

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """Unit vectors [N, D] of uint8 crops [N, INPUT, INPUT, 3]."""
        parts = [
            self.session.run({"crops": normalise(crops[i : i + BATCH])})[0] for i in range(0, len(crops), BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.vocabulary.vectors.shape[1]), np.float32)


@dataclass(frozen=True)
class IconModel:
    snapshots: tuple[Snapshot, ...]
    # The vectors of crops embedded before, by a digest of the crop's pixels. A crop's vector does not depend on the
    # others embedded with it (the encoder treats each alone), so a remembered one is exactly what embedding it again
    # would give. Consecutive screenshots of a live desktop, and the several instructions an evaluation asks about one
    # screenshot, propose mostly the same crops.
    remembered: Remembered[bytes, tuple[np.ndarray, ...]] = field(
        default_factory=lambda: Remembered(REMEMBERED_CROPS), compare=False, repr=False
    )

    def words(self, text: str) -> list[str]:
        """The words of `text` the model knows (every snapshot shares one vocabulary)."""
        return self.snapshots[0].vocabulary.word_vectors(text)[1]

    def embed(self, crops: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each snapshot's unit vectors [N, D] of the crops (uint8 [N, INPUT, INPUT, 3])."""
        keys = [hashlib.blake2b(crop.tobytes(), digest_size=16).digest() for crop in crops]
        found = self.remembered.get(keys)
        missing = [i for i, vectors in enumerate(found) if vectors is None]
        fresh = [snapshot.embed(crops[missing]) for snapshot in self.snapshots]  # [0, D] each when none is missing
        rows = list(zip(*fresh))  # per missing crop, its vector from each snapshot
        self.remembered.put([keys[i] for i in missing], rows)
        for i, vectors in zip(missing, rows):
            found[i] = vectors
        return tuple(np.stack([vectors[k] for vectors in found]) if found else part for k, part in enumerate(fresh))

    def similarity(self, crops: np.ndarray, text: str) -> np.ndarray:
        """How near each crop lies to `text` (see `compare`). `text` must hold a word the model knows (see `words`)."""
        return self.compare(self.embed(crops), text)

    def compare(self, embedded: tuple[np.ndarray, ...], text: str) -> np.ndarray:
        """How near each embedded crop (`embed`) lies to `text`, averaged over the snapshots: the soft maximum of its
        cosine similarity to each word.

        Training also learnt a vector where clutter (text strokes, rules, frame corners) embeds. Sending every crop
        nearer to it than to the phrase to the back cost right answers once snapshots had learnt from real controls
        (`python -m training.icons probe`: 97 -> 100 of the dev set's 239 icon targets without the rule, 306 -> 311
        of the held-out applications' 620), so it is not used here."""
        words = 0.0
        for snapshot, vectors in zip(self.snapshots, embedded):
            rows, _ = snapshot.vocabulary.word_vectors(text)
            words = words + (rows / np.linalg.norm(rows, axis=1, keepdims=True)) @ vectors.T
        words = words / len(self.snapshots)
        peak = words.max(axis=0)
        return peak + SOFTNESS * np.log(np.exp((words - peak) / SOFTNESS).mean(axis=0))


_lock = threading.Lock()
_model: IconModel | None = None


def load() -> IconModel:
    global _model
    with _lock:
        if _model is None:
            encoders = sorted(ASSETS.glob("encoder*.onnx"))
            pairs = [(e, ASSETS / f"words{e.stem.removeprefix('encoder')}.npz") for e in encoders]
            if not encoders or not all(words.is_file() for _, words in pairs):
                raise BackendError(
                    f"icon model files are missing under {ASSETS}; rebuild them with `python -m training.icons all`"
                )
            _model = IconModel(tuple(snapshot(encoder, words) for encoder, words in pairs))
        return _model


def snapshot(encoder: Path, words: Path) -> Snapshot:
    """One snapshot from its ONNX encoder and word table."""
    return Snapshot(Session(encoder, "the icon grounder"), Vocabulary.load(words))


@functools.cache
def revision() -> str:
    """A digest of the shipped snapshot files, naming the weights an evaluation ran with."""
    digest = hashlib.sha256()
    for path in sorted(ASSETS.glob("*")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
