"""How well two English texts' words pair off by meaning: each content word's nearest word in the other text.

A sentence encoder weighs a sentence's nouns and all but ignores its verb: "shut the current document" lies nearer
"keep the current document" (Save, cosine 0.89) than "shut the current document or window" (Close, 0.75), and "make a
directory" nearer "go to the file's directory" than "make an empty directory here". Commands differ by their verbs,
so a saying is also scored by how its words and the instruction's pair off one by one, the verb with the verb, the
object with the object (the mean of both texts' coverage, each word counting at its nearest word's cosine).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .instruction import FRAME_WORDS

# Words that pair off with anything and say nothing of what a control does: the instruction's frame (articles,
# pronouns, prepositions, the verbs of clicking, the nouns of widgets) without the verbs that do say something ("open",
# "show", "select"), and a few more pronouns and frame words.
FUNCTION_WORDS = (FRAME_WORDS - {"open", "select", "choose", "pick", "show", "go"}) | {
    "be", "me", "i", "you", "your", "one", "here", "there", "hit", "tool"}


class WordVectors(Protocol):
    def vectors(self, texts: Sequence[str]) -> np.ndarray: ...

    def table(self, texts: Sequence[str]) -> np.ndarray: ...


def content_words(text: str) -> list[str]:
    """The lower-cased Latin words of a text that are not function words, in order, each once."""
    words = re.findall(r"[a-z]+", text.lower())
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in FUNCTION_WORDS))


@functools.lru_cache(maxsize=4)
def _layout(texts: tuple[str, ...]) -> tuple[list[str], np.ndarray]:
    """A fixed list's vocabulary and the vocabulary index of each text's words, slot by slot: [slot, text], where a
    text with fewer words has the index one past the vocabulary (a word that pairs with nothing)."""
    words = [content_words(text) for text in texts]
    vocabulary = sorted({w for ws in words for w in ws})
    index = {w: i for i, w in enumerate(vocabulary)}
    slots = np.full((max((len(ws) for ws in words), default=0), len(texts)), len(vocabulary), np.int32)
    for column, ws in enumerate(words):
        slots[: len(ws), column] = [index[w] for w in ws]
    return vocabulary, slots


def scores(query: str, texts: Sequence[str], embedder: WordVectors, *, table: bool = False) -> np.ndarray:
    """Per text, how well its content words and the query's pair off (about -1..1); NaN where either has none (a
    Chinese text, a bare symbol). `table`: the texts are a fixed list, whose words' vectors are kept on disk."""
    asked = content_words(query)
    vocabulary, slots = _layout(tuple(texts))
    if not asked or not vocabulary:
        return np.full(len(texts), np.nan)
    words = embedder.table(vocabulary) if table else embedder.vectors(vocabulary)
    near = np.full((len(asked), len(vocabulary) + 1), -np.inf, np.float32)  # the last column: an empty slot
    near[:, :-1] = embedder.vectors(asked) @ words.T
    paired = near[:, slots]  # [asked word, slot, text]
    present = slots < len(vocabulary)
    counts = present.sum(axis=0)
    asked_covered = paired.max(axis=1).mean(axis=0)
    text_covered = np.where(present, paired.max(axis=0), 0.0).sum(axis=0) / np.maximum(counts, 1)
    return np.where(counts > 0, (asked_covered + text_covered) / 2, np.nan)
