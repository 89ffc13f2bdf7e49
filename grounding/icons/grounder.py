"""The `icons` grounder: propose icon-like regions, embed them with the shipped encoder, pick the one nearest the
instruction's words."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from grounding import memory
from grounding.base import BaseGrounder
from grounding.errors import OptionError
from grounding.geometry import Box
from grounding.ocr.cjk import has_cjk
from grounding.ocr.instruction import parse
from grounding.ocr.meaning import ENCODER, commands_meant, english_words
from grounding.types import Prediction, TraceStep

# Similarity -> score, measured on the dev set: the best region was right 18% of the time at similarity 0.1-0.2, 36%
# at 0.2-0.3, 62% at 0.3-0.4, so the score rises linearly from 0 at 0.05 to 0.75 at 0.45 to track that; an icon answer
# never outranks a text match (OCR's are >= 0.8).
LOW, HIGH, ICON_CEILING = 0.05, 0.45, 0.75


# An instruction that describes a command ("create an empty file", "send local files to the server") rather than
# naming what its icon shows is also searched for by the label of the conventional command it is nearest
# (`meaning.commands_meant`: New, Upload), when that is this near. The cosine is USE's, for English pairs mixed with
# how the words pair off (`meaning.ALIGNED_WEIGHT`), on which scale the floor was set: 0.70 let in commands the
# instruction only shares a word with ("Close", 0.74, for "the Close alert button") and cost two more of the dev
# set's icon targets than 0.75, which keeps them at 99 of 239 and finds 23 of the paraphrase split's 75 icon targets
# on its tuning applications (19 with USE alone and a floor of 0.65). WordLlama's averaged word vectors are left out:
# they reward shared words, putting "reload the file list" nearest Upload ("Upload File") instead of Reload.
COMMAND_FLOOR = 0.75
# What a region's similarity to the command's label gives up against its similarity to the instruction's own words:
# the label is a guess at what the instruction means.
COMMAND_DISCOUNT = 0.05


@dataclass(frozen=True)
class Match:
    box: Box
    similarity: float

    def to_dict(self) -> dict:
        return {"box": self.box.to_list(), "similarity": round(self.similarity, 4)}


@dataclass(frozen=True)
class Search:
    """What one icon search saw: the words it looked for, how many regions it compared, the best matches, and the
    label of the command the instruction describes that was looked for too (`IconGrounder.command`)."""

    words: tuple[str, ...]
    regions: int
    matches: tuple[Match, ...]  # best first
    command: str | None = None

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def score_of(similarity: float) -> float:
    return float(np.clip((similarity - LOW) / (HIGH - LOW), 0.0, 1.0)) * ICON_CEILING


class IconGrounder(BaseGrounder):
    """Icons without visible text, matched by what they depict; text on screen is not read (see `offline`)."""

    name = "icons"

    def __init__(self, *, min_score: float = 0.0, candidates: int = 5, meaning: bool = True) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise OptionError(f"min_score must lie in [0, 1], got {min_score}")
        if not isinstance(candidates, int) or candidates < 1:
            raise OptionError(f"candidates must be a positive integer, got {candidates!r}")
        if not isinstance(meaning, bool):
            raise OptionError(f"meaning must be true or false, got {meaning!r}")
        self.min_score = min_score
        self.candidates = candidates
        self.meaning = meaning  # read labels in other languages through the sentence encoder

    @property
    def revision(self) -> str:
        """Which weights answer (see `grounding.eval.fingerprint`)."""
        from . import model

        return model.revision()

    def query(self, instruction: str) -> tuple[str, list[str]]:
        """The text whose words are searched for and those words the model knows ("", [] when none is known)."""
        from . import model

        icon_model = model.load()
        # The target's words, with the role nouns that picture something ("Main menu", "collapse sidebar"); failing
        # those, the whole instruction's; for a label in another language ("保存"), the English icon words nearest
        # it in meaning.
        target = parse(instruction).target
        texts = [target, instruction]
        if has_cjk(target) and self.meaning:
            texts.append(" ".join(w.replace("-", " ") for w in english_words(target)))
        for text in texts:
            words = icon_model.words(text)
            if words:
                return text, words
        return "", []

    def command(self, instruction: str) -> str | None:
        """The label of the conventional command the instruction describes, when it lies near enough
        (`COMMAND_FLOOR`) and the icon model knows its words; else None."""
        from . import model

        if not self.meaning:
            return None
        meant = commands_meant(instruction, 1, ENCODER.multilingual)
        if not meant or meant[0].cosine < COMMAND_FLOOR or not model.load().words(meant[0].label):
            return None
        return meant[0].label

    @staticmethod
    def regions(pixels: np.ndarray, exclude: Iterable[Box] = ()) -> tuple[list[Box], np.ndarray]:
        """The icon-like regions of an RGB array (outside `exclude`) and their crops, as the encoder sees them."""
        # OpenCV loads here, not at import, so listing grounders stays fast.
        from .crops import PAD, cut, square
        from .proposals import propose

        boxes = propose(pixels, exclude)
        return boxes, cut(pixels, [square(b.center.x, b.center.y, max(b.width, b.height) * PAD) for b in boxes])

    def search(self, image: Image.Image, instruction: str, exclude: Iterable[Box] = ()) -> Search:
        """Rank the icon-like regions of an RGB `image` (outside `exclude`) by similarity to the instruction."""
        from . import model  # ONNX Runtime loads on use

        icon_model = model.load()
        text, words = self.query(instruction)
        command = self.command(instruction)
        if not words and not command:
            return Search((), 0, ())
        boxes, crops = self.regions(np.asarray(image), exclude)
        if not boxes:
            return Search(tuple(words), 0, (), command)
        embedded = icon_model.embed(crops)
        similarity = icon_model.compare(embedded, text) if words else np.full(len(boxes), -1.0)
        if command:
            similarity = np.maximum(similarity, icon_model.compare(embedded, command) - COMMAND_DISCOUNT)
        memory.trim()  # the encoder's freed activations, or they stay with the thread's heap
        order = np.argsort(-similarity)[: self.candidates]
        matches = tuple(Match(boxes[i], float(similarity[i])) for i in order)
        return Search(tuple(words), len(boxes), matches, command)

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        return prediction(self.search(image, instruction), self.min_score)


def prediction(found: Search, min_score: float, **extra) -> Prediction:
    """The Prediction for an icon search: its best region, or not_found when nothing matched well enough."""
    raw = json.dumps({"words": list(found.words), "best": found.best.to_dict() if found.best else None})
    details = {
        "source": "icon",
        "words": list(found.words),
        "command": found.command,
        "regions": found.regions,
        "candidates": [m.to_dict() for m in found.matches],
        **extra,
    }
    note = f"{found.regions} icon regions; words {' '.join(found.words) or '(none known)'}"
    best = found.best
    score = score_of(best.similarity) if best else 0.0
    if best is None or score < min_score:
        step = TraceStep("full", None, raw=raw, score=score, note=note)
        return Prediction.not_found(raw, score=score, trace=(step,), extra=details)
    point = best.box.center
    step = TraceStep("full", None, raw=raw, point=point, score=score, note=note)
    return Prediction(point=point, box=best.box, score=score, raw=raw, trace=(step,), extra=details)
