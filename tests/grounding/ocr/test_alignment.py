"""Pairing off two texts' words by meaning, with the shipped multilingual encoder's word vectors."""

from __future__ import annotations

import numpy as np
import pytest

from grounding.geometry import Box
from grounding.ocr import alignment, meaning
from grounding.ocr.engine import Line


@pytest.fixture(scope="module")
def words():
    return meaning.ENCODER.multilingual


def test_content_words_drop_clicking_and_widget_words_but_keep_verbs_that_say_something():
    assert alignment.content_words("Click the icon to shut the current document") == ["shut", "current", "document"]
    assert alignment.content_words("open the menu, then show the tool") == ["open", "then", "show"]
    assert alignment.content_words("press the button") == [] and alignment.content_words("新建文件夹") == []


def test_the_verb_decides_between_sayings_that_share_their_object(words):
    # The sentence encoder puts "keep the current document" (Save) nearer than Close's own saying.
    sayings = ["shut the current document or window", "keep the current document"]
    sentence = words.cosines("shut the current document", sayings)
    assert sentence[1] > sentence[0]
    paired = alignment.scores("shut the current document", sayings, words)
    assert paired[0] > paired[1] + 0.05
    assert alignment.scores("make a directory", ["make an empty directory here", "go to the file's directory"],
                            words).argmax() == 0


def test_texts_without_english_content_words_have_no_score(words):
    paired = alignment.scores("close the dialog", ["关闭", "shut it", "?"], words)
    assert np.isnan(paired[0]) and np.isnan(paired[2]) and -1 <= paired[1] <= 1
    assert np.isnan(alignment.scores("点击关闭", ["shut it"], words)).all()
    assert np.isnan(alignment.scores("click the button", ["shut it"], words)).all()


def test_a_fixed_list_scores_as_a_passing_one(words, tmp_path, monkeypatch):
    monkeypatch.setattr(meaning, "_table_cache", lambda: tmp_path)
    texts = ["shut the current document or window", "keep the current document", "关闭"]
    kept = alignment.scores("close this file", texts, words, table=True)
    assert np.allclose(kept, alignment.scores("close this file", texts, words), atol=1e-5, equal_nan=True)
    assert len(list(tmp_path.glob("*.npy"))) == 1  # the list's words, embedded once and kept


@pytest.mark.parametrize(
    "instruction, label",
    [
        ("shut the current document", "Close"),  # the sentence alone: Save ("keep the current document")
        ("make a directory", "Create Folder"),  # alone: Open Containing Folder ("go to the file's directory")
        ("draw a line through the selected text", "Strikethrough"),  # alone: Underline
        ("新建文件夹", "Create Folder"),  # a Chinese instruction is compared as a sentence only
    ],
)
def test_the_command_an_instruction_describes_is_told_by_its_verb_too(instruction, label):
    assert meaning.commands_meant(instruction, 1)[0].label == label


def test_a_text_lifted_by_a_saying_keeps_the_sentence_encoders_calibrated_cosine():
    # "large" pairs with Icon View's saying "Large Icons", so the command is among those meant; but a text is raised
    # only to the saying's sentence cosine, on whose scale the floor tells a real answer from none.
    meant = {m.label: m for m in meaning.commands_meant("order a large pizza", meaning.MEANT)}
    assert "Icon View" in meant and meant["Icon View"].cosine > meaning.LATIN_FLOOR + 0.1
    lines = [Line("Icon View", Box(0, 0, 90, 20), 0.95, tuple(10.0 * (i + 0.5) for i in range(9)))]
    found = meaning.nearest("order a large pizza", lines, (400, 100))[0]
    assert found.cosine == pytest.approx(meant["Icon View"].sentence - meaning.SAYING_DISCOUNT, abs=1e-6)
    assert found.cosine < meaning.LATIN_FLOOR
