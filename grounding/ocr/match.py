"""Fuzzy matching of the target words against OCR words and multi-word spans.

Spans may run across neighbouring detector boxes on one row (the detector sometimes cuts a label in two), and every
span remembers whether it is a whole control's text or a piece of a longer one, so the ranker can prefer whole controls.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from grounding.geometry import Box

from .cjk import drop_mnemonics, width
from .engine import Line, Word, word_spans


@dataclass(frozen=True)
class Candidate:
    """A run of on-screen words and how well it matches the target."""

    text: str
    box: Box
    similarity: float  # [0, 1], 1 when the normalised texts are equal
    extra_words: int  # words of the touched controls outside the span: 0 for a whole control
    confidence: float  # the OCR's confidence in the words read

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "box": self.box.to_list(),
            "similarity": round(self.similarity, 3),
            "ocr_confidence": round(self.confidence, 3),
        }


def normalize(text: str) -> str:
    """Case, accents, punctuation and ellipses do not matter when matching labels."""
    text = drop_mnemonics(unicodedata.normalize("NFKC", text)).casefold()
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def similarity(target: str, text: str) -> float:
    """How alike two normalised labels are; spaces are compared both ways because OCR splits and merges words."""
    if not target or not text:
        return 0.0
    if target == text:
        return 1.0
    spaced = fuzz.ratio(target, text)
    joined = fuzz.ratio(target.replace(" ", ""), text.replace(" ", ""))
    return max(spaced, joined) / 100.0


# Detected boxes are about 0.36 (`_TYPICAL_CHAR_WIDTH`) line heights wide per character (5-95%: 0.26-0.49 on the dev
# screens, padding included); a box outside this band cannot show the target as a whole label of its own.
_CHAR_WIDTH = (0.22, 0.65)
_TYPICAL_CHAR_WIDTH = 0.36


def fits(box: Box, target: str) -> bool:
    """Whether a detected box has about the width the target's text would take at the box's height."""
    ratio = _char_width(box, target)
    return ratio is not None and _CHAR_WIDTH[0] <= ratio <= _CHAR_WIDTH[1]


def misfit(box: Box, target: str) -> float:
    """How far a box's width is from the width the target's text would typically take (0: just that; 0.69: twice
    or half as wide)."""
    ratio = _char_width(box, target)
    return math.inf if not ratio else abs(math.log(ratio / _TYPICAL_CHAR_WIDTH))


def _char_width(box: Box, target: str) -> float | None:
    """The box's width per character of the target, in box heights."""
    chars = width(" ".join(target.split()))
    if chars == 0 or box.height <= 0:
        return None
    return box.width / (chars * box.height)


def rows(lines: Sequence[Line]) -> list[list[Line]]:
    """Chains of lines that sit side by side with a gap of at most about one text height."""
    order = sorted(lines, key=lambda line: (line.box.x1, line.box.y1))
    lefts = [line.box.x1 for line in order]
    used: set[int] = set()
    chains = []
    for i, line in enumerate(order):
        if i in used:
            continue
        chain, current = [line], line
        used.add(i)
        while True:
            nxt = _right_neighbour(order, lefts, current, used)
            if nxt is None:
                break
            used.add(nxt)
            chain.append(order[nxt])
            current = order[nxt]
        chains.append(chain)
    return chains


def _right_neighbour(order: Sequence[Line], lefts: Sequence[float], line: Line, used: set[int]) -> int | None:
    """The nearest line starting at most half a height left and 1.2 heights right of this one's end, on its row.
    Only lines whose left edge lies in that window are looked at (`lefts` is sorted), so chaining a screen's lines
    costs n log n, not n squared (a 1080p dialog's 228 lines: 45 of the 69 ms a match took)."""
    height = line.box.height
    best, best_gap = None, None
    start = bisect.bisect_left(lefts, line.box.x2 - height * 0.5)
    end = bisect.bisect_right(lefts, line.box.x2 + 1.2 * height)
    for j in range(start, end):
        other = order[j]
        if j in used:
            continue
        overlap = min(line.box.y2, other.box.y2) - max(line.box.y1, other.box.y1)
        if overlap < 0.6 * min(height, other.box.height) or abs(other.box.height - height) > 0.5 * height:
            continue
        gap = other.box.x1 - line.box.x2
        if best_gap is None or gap < best_gap:
            best, best_gap = j, gap
    return best


# Words further apart than this many text heights belong to different controls (a row of tabs or menus that OCR
# read as one line); the space inside a label is about a third of a height.
CONTROL_GAP = 0.55


@dataclass(frozen=True)
class Segment:
    """A run of words with no wide gap: one control's text."""

    text: str
    box: Box
    confidence: float


_MNEMONIC_WORD = re.compile(r"^[(\uff08][A-Za-z0-9][)\uff09]\W*$")


def segments(lines: Sequence[Line], gap: float = CONTROL_GAP) -> list[Segment]:
    return [_segment(run, line.confidence) for line in lines for run in controls(line, gap)]


def controls(line: Line, gap: float = CONTROL_GAP) -> list[list[Word]]:
    """The line's words in runs, one per control."""
    runs: list[list[Word]] = []
    for word in line.words:
        previous = runs[-1][-1] if runs else None
        # A keyboard mnemonic closes a label ("搜索(S) 查看(V)" is two menus however close they sit).
        if previous is None or word.box.x1 - previous.box.x2 > gap * line.box.height or _MNEMONIC_WORD.match(
            previous.text
        ):
            runs.append([])
        runs[-1].append(word)
    return runs


def _word_count(text: str) -> int:
    """Words that say something: a bullet, dash or arrow beside a label ("· Apache 2.0") does not make it part of a
    longer text."""
    return sum(any(c.isalnum() for c in word) for word in drop_mnemonics(text).split())


def _segment(words: list[Word], confidence: float) -> Segment:
    return Segment(" ".join(w.text for w in words), Box.union_of(w.box for w in words), confidence)


def candidates(target: str, lines: Sequence[Line], slack: int = 2) -> list[Candidate]:
    """Word spans of up to (target words + slack) words, and pieces of glued words, scored; best first."""
    wanted = normalize(target)
    if not wanted:
        return []
    max_words = len(wanted.split()) + slack
    found = []
    for chain in rows(lines):
        # Each word with the control it belongs to: a span that is all of its control's words is a whole label,
        # even when OCR read that control and its neighbours as one line ("Edit" in "File Edit View").
        words, sizes = [], []
        for line in chain:
            for run in controls(line):
                words += [(word.text, word.box, len(sizes)) for word in run]
                sizes.append(_word_count(" ".join(word.text for word in run)))
        confidence = min(line.confidence for line in chain)
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + max_words) + 1):
                span = words[start:end]
                text = " ".join(word for word, _, _ in span)
                score = similarity(wanted, normalize(text))
                if score <= 0.0:
                    continue
                touched = {control for _, _, control in span}
                found.append(
                    Candidate(
                        text=text,
                        box=Box.union_of(box for _, box, _ in span),
                        similarity=score,
                        extra_words=max(0, sum(sizes[i] for i in touched) - _word_count(text)),
                        confidence=confidence,
                    )
                )
        for line in chain:
            glued = _glued(target, line)
            if glued is not None:
                found.append(glued)
    found.sort(key=lambda c: c.similarity, reverse=True)
    return found


# A target found inside a longer word ("File" in "FileEdit": the recogniser dropped a narrow space) is likely right,
# but less sure than a word of its own ("Text" also hides in "Context").
_GLUED_FACTOR = 0.88


def _glued(target: str, line: Line) -> Candidate | None:
    wanted = _fold(target).strip()
    if width(wanted.replace(" ", "")) < 3:  # two CJK characters make a word; two letters do not
        return None
    haystack = _fold(line.text)
    if 2 * len(haystack.strip()) < len(wanted):
        # partial_ratio slides the shorter string along the longer one, so a line may "contain" the target by sitting
        # inside it: fine for a label the screen cuts short ("What parameters differ" for "What parameters differ
        # between runs?"), not for a stray "R:" or "Fill:" standing for a whole tooltip.
        return None
    alignment = fuzz.partial_ratio_alignment(wanted, haystack, score_cutoff=90)
    if alignment is None:
        return None
    start, end = alignment.dest_start, alignment.dest_end
    while start < end and haystack[start] == " ":
        start += 1
    while end > start and haystack[end - 1] == " ":
        end -= 1
    if end <= start:
        return None
    inside = [(a, b) for a, b in word_spans(line.text) if a < end and b > start]
    if len(inside) == 1 and inside[0] == (start, end):
        return None  # a whole word: the word spans already cover it
    text = line.text[start:end]
    return Candidate(
        text=text,
        box=line.span_box(start, end),
        similarity=_GLUED_FACTOR * alignment.score / 100.0,
        extra_words=max(0, len(word_spans(line.text)) - len(inside)),
        confidence=line.confidence,
    )


def _fold(text: str) -> str:
    """Lower case with punctuation as spaces, keeping every character's position."""
    return "".join((low if len(low := c.lower()) == 1 else c) if c.isalnum() else " " for c in text)


def best_per_place(found: Iterable[Candidate], limit: int) -> list[Candidate]:
    """The top candidates with overlapping spans collapsed, so the list shows distinct places."""
    kept: list[Candidate] = []
    for candidate in found:
        if any(same_place(candidate.box, other.box) for other in kept):
            continue
        kept.append(candidate)
        if len(kept) >= limit:
            break
    return kept


def same_place(a: Box, b: Box) -> bool:
    """Whether two matched spans are one place on screen (overlapping readings of the same words)."""
    return a.intersection(b) is not None and a.iou(b) > 0.3
