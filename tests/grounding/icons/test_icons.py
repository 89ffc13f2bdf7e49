"""The icon grounder on real pixels: crops, proposals, the shipped model, and the `offline` text-then-icon fusion."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

import grounding
from grounding.errors import InstructionError, OptionError
from grounding.geometry import Box
from grounding.icons import model
from grounding.icons.crops import INPUT, cut, normalise, square
from grounding.icons.grounder import ICON_CEILING, IconGrounder
from grounding.icons.model import SOFTNESS
from grounding.icons.offline import words_on_screen
from grounding.icons.proposals import propose
from grounding.icons.text import content_words
from grounding.inputs import load_image
from grounding.memory import Remembered
from grounding.ocr.engine import Line, Page
from grounding.types import Status
from tests.conftest import SAMPLES


def sample_records(ui_type: str) -> list[dict]:
    records = []
    for path in sorted((SAMPLES / "annotations").glob("*.json")):
        records += [r for r in json.loads(path.read_text()) if r["ui_type"] == ui_type]
    return records


def toolbar() -> np.ndarray:
    """A light toolbar with three drawn glyphs (a ring, a cross, a filled square) and a word of text."""
    image = np.full((120, 400, 3), 242, np.uint8)
    cv2.circle(image, (40, 60), 9, (40, 40, 40), 2, cv2.LINE_AA)
    cv2.line(image, (82, 50), (100, 70), (40, 40, 40), 2, cv2.LINE_AA)
    cv2.line(image, (100, 50), (82, 70), (40, 40, 40), 2, cv2.LINE_AA)
    cv2.rectangle(image, (130, 52), (146, 68), (30, 90, 200), -1)
    cv2.putText(image, "Settings", (220, 68), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2, cv2.LINE_AA)
    return image


def test_cut_pads_outside_the_image_with_its_edge_and_keeps_the_size():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, :5] = 200
    crops = cut(image, [(-6, -6, 6, 6), (2, 2, 9, 9), (0, 0, 100, 100)])
    assert crops.shape == (3, INPUT, INPUT, 3)
    assert crops[0, 0, 0, 0] == 200  # replicated from the left edge, not black
    assert crops[0, :, -1, 0].max() == 0  # the right part of that crop is the dark half


def test_normalise_ignores_brightness_and_contrast_changes():
    crops = cut(toolbar(), [square(40, 60, 30)])
    brighter = np.clip(crops.astype(np.int16) * 0.5 + 100, 0, 255).astype(np.uint8)
    a, b = normalise(crops), normalise(brighter)
    assert a.shape == (1, 3, INPUT, INPUT)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99


def near(boxes: list[Box], x: float, y: float) -> bool:
    return any(abs(b.center.x - x) <= 3 and abs(b.center.y - y) <= 3 for b in boxes)


def test_proposals_find_each_glyph_but_not_inside_blocked_words():
    image = toolbar()
    boxes = propose(image)
    assert all(near(boxes, x, 60) for x in (40, 91, 138)), boxes
    assert not any(b.width > 60 for b in boxes)  # the word is a long blob, not an icon
    blocked = propose(image, exclude=[Box(75, 40, 110, 80)])
    assert not near(blocked, 91, 60) and near(blocked, 40, 60)


def test_only_confidently_read_words_are_kept_out_of_the_icon_search():
    def line(text: str, confidence: float, x: float) -> Line:
        return Line(
            text, Box(x, 0, x + 10 * len(text), 20), confidence, tuple(x + 10 * i + 5 for i in range(len(text)))
        )

    page = Page(
        (400, 20),
        (
            line("Save", 0.8, 0),
            line("re", 0.95, 60),  # a two-letter fragment read with certainty is text
            line("re", 0.8, 100),  # read hesitantly it may be an icon's strokes
            line("X", 0.99, 140),  # a single symbol is what OCR makes of a close button
            line("Sav", 0.5, 200),
        ),
    )
    assert [box.x1 for box in words_on_screen(page)] == [0, 60]


def test_content_words_drop_commands_and_roles():
    assert content_words("click the 'Save' button") == ["save"]
    assert content_words("the icon to add another customer") == ["add", "another", "customer"]


def test_synonyms_land_near_each_other_in_the_shipped_text_space():
    snapshots = model.load().snapshots
    assert len(snapshots) == 3  # the shipped snapshots, averaged
    for snapshot in snapshots:
        vocabulary = snapshot.vocabulary
        settings, _ = vocabulary.embed("settings")
        preferences, _ = vocabulary.embed("preferences")
        trash, _ = vocabulary.embed("trash")
        assert float(settings @ preferences) > float(settings @ trash)
        assert vocabulary.embed("xqzv")[0] is None


def test_unknown_compounds_are_read_as_their_two_known_words():
    vocabulary = model.load().snapshots[0].vocabulary
    assert vocabulary.lookup("subpath") == [vocabulary.words["sub"], vocabulary.words["path"]]
    assert vocabulary.lookup("path") == [vocabulary.words["path"]]
    assert vocabulary.lookup("pathxqzv") == []
    vector, used = vocabulary.embed("the subpath")
    expected = vocabulary.vectors[vocabulary.lookup("subpath")].mean(axis=0)
    assert used == ["subpath"] and np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)


def test_a_crop_is_as_near_to_an_instruction_as_to_its_nearest_word_averaged_over_snapshots():
    icon_model = model.load()
    crops = cut(toolbar(), [square(40, 60, 30), square(91, 60, 30), square(138, 60, 30)])

    def averaged(query) -> np.ndarray:
        return np.mean([s.embed(crops) @ query(s) for s in icon_model.snapshots], axis=0)

    close, save = (averaged(lambda s, w=word: s.vocabulary.embed(w)[0]) for word in ("close", "save"))
    nearest = np.maximum(close, save)
    got = icon_model.similarity(crops, "close and save")
    assert np.all(got <= nearest + 1e-5) and np.all(got >= nearest - SOFTNESS * np.log(2) - 1e-5)
    assert np.allclose(icon_model.similarity(crops, "close"), close, atol=1e-5)
    assert icon_model.words("click the Close button") == ["close"]


def test_crops_embedded_before_are_remembered_exactly_and_a_changed_one_is_embedded_again(monkeypatch):
    """A live step or a second instruction on a screenshot proposes mostly the same crops: their vectors come from
    memory, identical to embedding them again, while a crop whose pixels changed never gets an old vector."""
    screen = load_image(SAMPLES / "images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png")
    crops = cut(np.asarray(screen), [square(x, 60, 30) for x in range(30, 600, 40)])
    icon_model = model.IconModel(model.load().snapshots, Remembered(capacity=len(crops)))
    fresh = [snapshot.embed(crops) for snapshot in icon_model.snapshots]
    embedded = []
    # The crops each snapshot was given to embed (a call with none runs no session, so it is not counted).
    monkeypatch.setattr(model.Snapshot, "embed", lambda self, c, real=model.Snapshot.embed: (
        len(c) and embedded.append(len(c)), real(self, c))[1])
    first = icon_model.embed(crops)
    changed = crops.copy()
    changed[3, 10:20, 10:20] = 255 - changed[3, 10:20, 10:20]
    again = icon_model.embed(changed[::-1])
    snapshots = len(icon_model.snapshots)
    assert embedded == [len(crops)] * snapshots + [1] * snapshots
    for vectors, repeated, expected in zip(first, again, fresh):
        assert np.array_equal(vectors, expected)
        assert np.array_equal(np.delete(repeated[::-1], 3, axis=0), np.delete(expected, 3, axis=0))
        assert not np.array_equal(repeated[::-1][3], expected[3])
    # Memory stays at its capacity: the changed crop pushed out the least recently used, the original crop 3.
    icon_model.embed(crops[:1])
    assert len(embedded) == 2 * snapshots
    icon_model.embed(crops[3:4])
    assert embedded == [len(crops)] * snapshots + [1] * 2 * snapshots


def test_revision_is_a_digest_of_the_shipped_weights(tmp_path, monkeypatch):
    shipped = model.revision()
    assert grounding.load("offline").revision == shipped == grounding.load("icons").revision  # through zoom too
    for name in ("encoder-1.onnx", "words-1.npz"):
        (tmp_path / name).write_bytes(b"first weights")
    monkeypatch.setattr(model, "ASSETS", tmp_path)
    model.revision.cache_clear()
    try:
        first = model.revision()
        (tmp_path / "words-1.npz").write_bytes(b"retrained weights")
        model.revision.cache_clear()
        assert len({shipped, first, model.revision()}) == 3
    finally:
        model.revision.cache_clear()


def test_registry_lists_both_grounders():
    names = {entry.name for entry in grounding.available()}
    assert {"icons", "offline"} <= names
    with pytest.raises(OptionError):
        grounding.load("icons", min_score=2.0)


def test_icon_grounder_answers_in_image_pixels_with_a_bounded_score():
    image = load_image(SAMPLES / "images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png")
    prediction = grounding.load("icons").locate(image, "click the Bold button")
    assert prediction.status is Status.OK
    assert 0 < prediction.score <= ICON_CEILING
    assert Box(0, 0, *image.size).contains(prediction.point)
    assert prediction.extra["words"] == ["bold"] and prediction.extra["regions"] > 10


def test_role_nouns_that_picture_something_stay_among_the_target_words():
    assert content_words("the sidebar") == [] and content_words("the sidebar", roles=True) == ["sidebar"]
    grounder = grounding.load("icons")
    image = Image.fromarray(toolbar())
    assert grounder.locate(image, "click Menu").extra["words"] == ["menu"]
    assert grounder.locate(image, "the Main menu icon").extra["words"] == ["main", "menu"]
    assert grounder.locate(image, "the Bold button in the toolbar").extra["words"] == ["bold"]  # not "toolbar"


def test_unknown_words_are_not_found_and_bad_input_raises():
    grounder = grounding.load("icons")
    image = Image.fromarray(toolbar())
    assert grounder.locate(image, "click qwzx").status is Status.NOT_FOUND
    with pytest.raises(InstructionError):
        grounder.locate(image, "   ")


def test_offline_keeps_ocr_answers_for_visible_text():
    record = sample_records("text")[0]
    image = load_image(SAMPLES / "images" / record["img_filename"])
    for zoom in (None, False):  # offline's zoom setting is its text side's: the same loop, or none
        text = grounding.load("ocr", zoom=zoom).locate(image, record["instruction"])
        fused = grounding.load("offline", zoom=zoom).locate(image, record["instruction"])
        assert text.found and fused.extra["source"] == "text"
        assert fused.point == text.point and len(fused.trace) == len(text.trace)


def test_offline_finds_icons_the_ocr_grounder_misses_on_the_samples():
    offline = grounding.load("offline", zoom=False)
    ocr = grounding.load("ocr", zoom=False)
    hits = {"ocr": 0, "offline": 0}
    records = sample_records("icon")
    images = {}
    for record in records:
        name = record["img_filename"]
        images.setdefault(name, load_image(SAMPLES / "images" / name))
        truth = Box.of(record["bbox"])
        for key, grounder in (("ocr", ocr), ("offline", offline)):
            prediction = grounder.locate(images[name], record["instruction"])
            hits[key] += prediction.found and truth.contains(prediction.point)
    assert hits["offline"] >= hits["ocr"] + 3, hits


def test_an_icon_described_by_what_it_does_is_found_by_its_commands_label():
    # Writer's toolbar: "insert a picture" names neither the Image button's label nor what it shows, but it is what
    # users say the conventional Image command does; before, the picture-like region of the page won.
    image = load_image(SAMPLES / "images" / "libreoffice_writer_linux" / "libreoffice_writer_1920x1080_main.png")
    icons = IconGrounder()
    assert icons.command("insert a picture") == "Image"
    assert icons.command("walk the dog around the block") is None  # made up: its nearest command (Block) too far
    found = grounding.load("offline", zoom=False).locate(image, "insert a picture")
    assert found.extra["source"] == "icon" and found.extra["command"] == "Image", found.extra
    assert Box(657, 50, 690, 85).contains(found.point)


def test_an_instruction_asking_for_the_icon_that_does_something_is_not_answered_by_a_text():
    # "the icon to upload files" asks for an icon, as "the Upload icon" does: the screen's texts are not searched by
    # meaning for it ("File Browser" by its saying "Files" answered it before, on a JupyterLab screen of the dev set).
    image = load_image(SAMPLES / "images" / "jupyterlab_web" / "notebook_file_menu.png")
    offline = grounding.load("offline", zoom=False)
    for instruction in ("click the icon to enable the debugger", "the icon that will upload files"):
        found = offline.locate(image, instruction)
        assert found.extra["source"] == "icon" and found.extra["meaning"] == [], found.extra
    described = offline.locate(image, "enable the debugger")
    assert described.extra["meaning"], described.extra  # not asked as an icon: the texts are compared too
