"""The text side: an instruction as a vector in the icon encoder's space, with no model to run.

Each vocabulary word carries its frozen MiniLM sentence embedding pushed through the projection learned with the
image encoder (a linear map, so it is applied once, at export). A phrase is the mean of its content words' vectors,
exactly how icon names and tags were embedded in training, so "preferences" lands near "settings" and the gear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Command words, articles and role nouns say how to act, not what the icon shows.
# (Less the words that name icons too: document-new, document-open, view-show, ...)
STOPWORDS = frozenset([
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "to", "of", "for", "in", "on", "at", "by",
    "with", "from", "into", "onto", "and", "or", "as", "is", "are", "be", "will", "would", "can", "click",
    "clicks", "clicking", "press", "pressing", "push", "tap", "hit", "use", "using", "select", "choose", "pick",
    "open", "show", "toggle", "tick", "untick", "button", "buttons", "icon", "icons", "tool", "tools", "item",
    "menu", "tab", "sidebar", "panel", "toolbar", "bar", "please", "here", "there", "which", "what", "where",
    "when", "then", "your", "my", "me", "you", "let", "lets", "via", "currently", "now", "mode", "new"
]) - {"mode", "new", "open", "select", "show", "toggle"}
_WORD = re.compile(r"[a-z]+")


# Role nouns that are drawn as icons of their own (the hamburger "menu", a "sidebar" toggle) stay among an
# instruction's words ("Main menu", "collapse sidebar"); icon names in training drop them like the other role nouns.
PICTURED_ROLES = frozenset(["menu", "tab", "sidebar", "panel", "toolbar", "tool", "tools"])


def content_words(text: str, roles: bool = False) -> list[str]:
    """Lower-case alphabetic words of `text` that are not command words or role nouns (or are `PICTURED_ROLES`)."""
    kept = STOPWORDS - PICTURED_ROLES if roles else STOPWORDS
    return [w for w in _WORD.findall(text.lower()) if w not in kept and len(w) > 1]


@dataclass(frozen=True)
class Vocabulary:
    words: dict[str, int]
    vectors: np.ndarray  # float32 [V, D], the projected word embeddings

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with np.load(path) as data:
            vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
            words = {str(w): i for i, w in enumerate(data["words"])}
        return cls(words, vectors)

    def lookup(self, word: str) -> list[int]:
        """The word's rows: itself or a plain English inflection of it, else the two known words of a compound
        ("subpath" -> sub + path); [] when unknown."""
        for candidate in (word, word.removesuffix("s"), word.removesuffix("es"), word.removesuffix("ing"),
                          word.removesuffix("ed"), word.removesuffix("d")):
            if candidate in self.words:
                return [self.words[candidate]]
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if head in self.words and (rows := self.lookup(tail)) and len(rows) == 1:
                return [self.words[head], *rows]
        return []

    def word_vectors(self, text: str) -> tuple[np.ndarray, list[str]]:
        """One row [W, D] per known content word of `text` (pictured role nouns kept), and those words."""
        rows, used = [], []
        for word in content_words(text, roles=True):
            found = self.lookup(word)
            if found:
                # A compound counts as one word, like any other, so it does not outweigh its neighbours.
                rows.append(self.vectors[found].mean(axis=0))
                used.append(word)
        return np.array(rows, np.float32).reshape(len(rows), self.vectors.shape[1]), used

    def embed(self, text: str) -> tuple[np.ndarray | None, list[str]]:
        """The unit vector of `text` (the mean of its words') and the words it was built from; (None, []) when no
        word is known."""
        rows, used = self.word_vectors(text)
        return (phrase_vector(rows), used) if used else (None, [])


def phrase_vector(rows: np.ndarray) -> np.ndarray:
    """The unit mean of a phrase's word rows [W, D]."""
    vector = rows.mean(axis=0)
    return vector / (np.linalg.norm(vector) + 1e-9)
