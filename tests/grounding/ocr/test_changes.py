"""Re-reading only what changed between consecutive screenshots: real screenshots, real edits, never a stale answer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import grounding
from grounding.geometry import Box, Point
from grounding.ocr import engine
from grounding.ocr.changes import CELL, changed_regions
from tests.conftest import REPO

WRITER = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
# The menu labels' places on that screenshot (its annotations and OCR agree): Edit at x 42-70, View at 83-111.
EDIT, VIEW = (40, 25, 72, 47), (81, 25, 113, 47)


def screen() -> Image.Image:
    # A crop no other test reads, so this test's first look is a fresh reading that the later looks start from.
    return Image.open(WRITER).convert("RGB").crop((0, 0, 1400, 700))


def swapped(image: Image.Image, a: tuple[int, ...], b: tuple[int, ...]) -> Image.Image:
    out = image.copy()
    out.paste(image.crop(a), b[:2])
    out.paste(image.crop(b), a[:2])
    return out


@pytest.fixture(scope="module")
def ocr():
    return grounding.load("ocr", zoom=False)


def test_a_redrawn_label_is_read_again_not_answered_from_the_old_reading(ocr):
    before = screen()
    edit = ocr.locate(before, "click 'Edit' in the menu bar")
    assert Box(*EDIT).contains(edit.point)

    after = swapped(before, EDIT, VIEW)  # the menu bar now reads File View Edit Insert ...
    moved = ocr.locate(after, "click 'Edit' in the menu bar")
    assert moved.extra["ocr_cached"] is False
    assert moved.extra["boxes_carried"] > 0  # most of the screen was taken over from the first reading
    assert Box(*VIEW).contains(moved.point), moved.point  # Edit is where View was drawn
    view = ocr.locate(after, "open the View menu")
    assert Box(*EDIT).contains(view.point), view.point


def test_a_label_painted_over_is_gone(ocr):
    before = screen()
    ocr.locate(before, "open the Styles menu")
    after = before.copy()
    ImageDraw.Draw(after).rectangle((236, 25, 288, 47), fill=after.getpixel((236, 50)))  # Styles erased
    prediction = ocr.locate(after, "open the Styles menu")
    assert prediction.extra["boxes_carried"] > 0
    assert not (prediction.found and Box(236, 25, 288, 47).contains(prediction.point))


def test_unchanged_parts_keep_their_reading(ocr):
    before = screen()
    first = ocr.locate(before, "open the Format menu")
    after = before.copy()
    # Typed into the blank line under the bullet list of the report, far from the menu bar.
    ImageDraw.Draw(after).text((900, 508), "typed just now", fill=(0, 0, 0), font=ImageFont.load_default(size=18))
    again = ocr.locate(after, "open the Format menu")
    boxes = int(again.trace[0].note.split()[0])  # "N text boxes"
    assert 0 < boxes - again.extra["boxes_carried"] <= 3  # only the typed line was detected afresh
    assert again.extra["boxes_read"] <= boxes - again.extra["boxes_carried"]  # and only new boxes were read
    assert again.point == first.point  # the menu bar's reading was carried over
    page = ocr.read(after)
    assert any("typed" in line.text for line in page.lines)  # the typed text was read, at its place
    assert any("typed" in line.text and line.box.contains(Point(920, 517)) for line in page.lines)


def test_a_line_a_change_touches_is_detected_whole_in_one_pass(ocr, monkeypatch):
    before = screen()
    ocr.locate(before, "open the Tools menu")
    after = before.copy()
    highlighted = (118, 25, 164, 47)  # the Insert menu's title, drawn inverted as when the pointer is over it
    after.paste(Image.eval(before.crop(highlighted), lambda value: 255 - value), highlighted[:2])
    detected: list[Box] = []

    def detect_in(image, region, scale):
        detected.append(region)
        return real_detect_in(image, region, scale)

    real_detect_in = engine.detect_in
    monkeypatch.setattr(engine, "detect_in", detect_in)
    tools = ocr.locate(after, "open the Tools menu")
    assert tools.extra["boxes_carried"] > 0
    # The menu bar's line runs far past the change: it is detected whole at once, not found cut and detected again.
    # (An earlier test's screen, with text typed lower down, may be the reading this one starts from.)
    assert any(area.x1 <= 5 and area.x2 >= 537 and area.y1 <= 25 and area.y2 >= 47 for area in detected), detected
    assert not any(a.intersection(b) for i, a in enumerate(detected) for b in detected[i + 1 :]), detected
    assert tools.found and Box(392, 25, 424, 47).contains(tools.point), tools.point  # Tools, as read before


def test_changed_regions_cover_every_changed_pixel():
    rng = np.random.default_rng(0)
    old = rng.integers(0, 255, (300, 500, 3), dtype=np.uint8)
    new = old.copy()
    new[10, 20, 1] ^= 1  # one channel of one pixel
    new[200:230, 300:420] = 0
    regions = changed_regions(old, new)
    assert regions is not None and len(regions) == 2
    assert any(r.contains(Point(20, 10)) for r in regions)
    assert any(r.x1 <= 300 and r.y1 <= 200 and r.x2 >= 420 and r.y2 >= 230 for r in regions)
    for region in regions:
        assert region.x1 % CELL == 0 and region.y1 % CELL == 0
    assert changed_regions(old, old) == []


def test_a_mostly_new_screen_is_read_afresh():
    old = np.zeros((200, 200, 3), np.uint8)
    new = old.copy()
    new[:150] = 255
    assert changed_regions(old, new) is None


def test_nothing_is_carried_over_between_unrelated_images(ocr):
    from grounding.inputs import unrelated_images

    before = screen()
    ocr.locate(before, "open the Table menu")
    erased = []
    for box in ((390, 25, 427, 47), (442, 25, 489, 47)):  # Tools, then Window, erased: two screens not read before
        after = before.copy()
        ImageDraw.Draw(after).rectangle(box, fill=after.getpixel((box[0], 50)))
        erased.append(after)
    with unrelated_images():  # as in an evaluation: each screenshot answered on its own
        unrelated = ocr.locate(erased[0], "open the Table menu")
    following = ocr.locate(erased[1], "open the Table menu")
    assert unrelated.extra["ocr_cached"] is False and unrelated.extra["boxes_carried"] == 0
    assert following.extra["ocr_cached"] is False and following.extra["boxes_carried"] > 0
    assert unrelated.point is not None and following.point is not None


INKSCAPE_4K = REPO / "samples/images/inkscape_linux/inkscape_3840x2160_menu_extensions.png"
# Two items of the sample's open Extensions menu (its annotations): Arrange, and Document two rows below.
ARRANGE, DOCUMENT = (366, 103, 682, 130), (366, 157, 682, 184)


def test_tiles_never_detected_stay_so_across_a_live_step():
    """A 1x 4K screen read only in its top-left tile; the next frame swaps two of its menu items: the step re-reads
    around them, leaves the other tiles for later, and answers from the new pixels. A change where no tile was
    detected yet cannot be carried over exactly, so that frame is read afresh."""
    from grounding.ocr.changes import reread
    from grounding.ocr.grounder import _read_until_settled
    from grounding.ocr.instruction import parse

    image = Image.open(INKSCAPE_4K).convert("RGB")
    before = engine.Screen.detected(image, 1920)
    before.detect(image, before.pending[:1])
    after = swapped(image, ARRANGE, DOCUMENT)
    step = reread(before, after, changed_regions(np.asarray(image), np.asarray(after)))
    assert step is not None and len(step.pending) == 3
    assert step.pending == before.pending and step.pieces == before.pieces
    ranked, _ = _read_until_settled(parse("hover over Arrange"), step, after)
    assert Box(*DOCUMENT).contains(ranked[0].candidate.box.center)
    assert len(step.pending) == 3

    elsewhere = image.copy()
    ImageDraw.Draw(elsewhere).rectangle((3000, 1800, 3200, 1840), fill=(255, 0, 0))
    assert reread(before, elsewhere, changed_regions(np.asarray(image), np.asarray(elsewhere))) is None
