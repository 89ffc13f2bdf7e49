"""The text detector and recogniser on real screenshots: a 1x 4K screen is detected at its own size, in tiles, with no
line lost or cut at a seam; each box is read at its own width, the same whatever is read with it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from grounding.geometry import Box, cover
from grounding.ocr import engine
from tests.conftest import REPO

SAMPLES = REPO / "samples"
INKSCAPE_4K = SAMPLES / "images/inkscape_linux/inkscape_3840x2160_menu_extensions.png"
WRITER = SAMPLES / "images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
JUPYTER_MENU = SAMPLES / "images/jupyterlab_web/notebook_file_menu.png"


@pytest.fixture(scope="module")
def inkscape():
    return Image.open(INKSCAPE_4K).convert("RGB")


@pytest.fixture(scope="module")
def detected(inkscape):
    return engine.find_text(inkscape, 1920)


def test_a_1x_4k_screen_is_detected_at_its_own_size(detected, inkscape):
    assert detected.scale == (1.0, 1.0)
    # Every annotated menu item of the sample holds a detected line (its small text vanished at the 2000 px the
    # detector would shrink the whole frame to).
    menu = [r for r in json.loads((SAMPLES / "annotations/inkscape_linux.json").read_text()) if r["ui_type"] == "text"]
    assert len(menu) >= 8
    for record in menu:
        item = Box.of(record["bbox"])
        assert any(box.intersection(item) is not None and item.contains(box.center) for box in detected.boxes), record


OFFSET = (1000, 600)


@pytest.fixture(scope="module")
def seamed():
    """A 1080p screenshot pasted into a 4K screen so that its document text straddles the tiles' seams."""
    screen = Image.new("RGB", (3840, 2160), (214, 214, 214))
    screen.paste(Image.open(WRITER).convert("RGB"), OFFSET)
    return screen


def test_lines_across_a_seam_are_whole(seamed):
    """Every line of the pasted screenshot is found whole, as a single pass over the 1080p screenshot alone finds it."""
    writer, screen, offset = Image.open(WRITER).convert("RGB"), seamed, OFFSET
    tiled = engine.detect(screen, 3840)  # the full-size pass `find_text` makes on a 1x screen
    assert tiled.scale == (1.0, 1.0)
    detector, _ = engine.models()
    tiles = cover(screen.size, detector.max_side, engine.TALLEST_LINE, 32)
    seams_x = {x for tile in tiles for x in (tile.x1, tile.x2)} - {0, screen.width}  # where a tile cuts a line
    seams_y = {y for tile in tiles for y in (tile.y1, tile.y2)} - {0, screen.height}
    crossing = 0
    for box in engine.detect(writer, 1920).boxes:
        line = Box(box.x1 + offset[0], box.y1 + offset[1], box.x2 + offset[0], box.y2 + offset[1])
        across = any(line.x1 < x < line.x2 for x in seams_x) or any(line.y1 < y < line.y2 for y in seams_y)
        if across and line.width >= 2 * line.height:  # a line of text, not an icon read as a glyph
            crossing += 1
            best = max(tiled.boxes, key=lambda found: _covered(line, found))
            assert _covered(line, best) >= 0.95, (line, best)  # not cut at the seam
    assert crossing >= 5


def test_joining_takes_pieces_from_different_tiles_only():
    left, right = Box(100, 10, 200, 30), Box(180, 11, 320, 29)  # one line, seen by two tiles
    below = Box(150, 40, 250, 60)  # the next row
    lines = engine._joined([(0, left), (1, right), (1, below)])
    assert [engine._line_box(line) for line in lines] == [Box(100, 10, 320, 30), below]
    assert len(engine._joined([(0, left), (0, right)])) == 2  # one tile's own lines stay apart


def _covered(line: Box, found: Box) -> float:
    """The share of `line`'s width that a box on its row covers (0 for a box on another row)."""
    shared = line.intersection(found)
    if shared is None or shared.height < 0.5 * line.height:
        return 0.0
    return shared.width / line.width


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 1, 0, 2)])
def test_a_screen_detected_a_tile_at_a_time_has_the_lines_of_one_detected_whole(seamed, order):
    """Tiles detected one by one, in any order, end with the boxes of a whole full-size pass. On the way, a box once
    listed stays at its index (its reading stays valid) and none reaches into a tile not yet detected (a line cut at
    that tile's edge would read as a shorter label)."""
    whole = engine.detect(seamed, 3840)
    screen = engine.Screen(seamed.size, [], scale=(1.0, 1.0), pending=engine.full_size_tiles(seamed.size))
    assert len(screen.pending) == 4
    tiles = screen.pending
    for index in order:
        before = screen.boxes
        screen.detect(seamed, [tiles[index]])
        assert screen.boxes[: len(before)] == before
        assert not any(box.intersection(tile) is not None for box in screen.boxes for tile in screen.pending)
    assert not screen.pending and not screen.pieces
    assert sorted(box.to_list() for box in screen.boxes) == sorted(box.to_list() for box in whole.boxes)


def test_a_lazy_screen_survives_the_disk_cache(inkscape):
    screen = engine.Screen.detected(inkscape, 1920)
    assert len(screen.pending) == 4 and not screen.boxes  # its 1x text needs the full-size pass
    screen.detect(inkscape, screen.pending[:1])
    assert screen.boxes and screen.pieces
    again = engine.Screen.from_dict(json.loads(json.dumps(screen.to_dict())))
    assert again.pending == screen.pending and again.pieces == screen.pieces and again.boxes == screen.boxes
    again.detect(inkscape)
    screen.detect(inkscape)
    assert again.boxes == screen.boxes


@pytest.fixture(scope="module")
def writer():
    image = Image.open(WRITER).convert("RGB")
    return image, engine.find_text(image, 1920).boxes


def test_a_box_reads_the_same_whatever_is_read_with_it(writer):
    image, boxes = writer
    together = engine.recognize(image, boxes)
    alone = [engine.recognize(image, [box])[0] for box in boxes[::5]]
    assert sum(line is not None for line in alone) >= 8
    assert alone == together[::5]


def test_each_crop_is_read_at_its_own_width(writer, monkeypatch):
    image, boxes = writer
    _, recognizer = engine.models()
    widths: list[int] = []
    run = recognizer.session.run
    feed = recognizer.session.input
    monkeypatch.setattr(recognizer.session, "run", lambda feeds: widths.append(feeds[feed].shape[3]) or run(feeds))
    lines = engine.recognize(image, boxes)
    height = recognizer.rec_image_shape[1]
    crops = [Box(*box.to_ints()) for box in boxes]
    expected = {height * max(recognizer.NARROWEST, math.ceil(crop.width / crop.height)) for crop in crops}
    assert expected <= set(widths) and all(w >= 320 for w in set(widths) - expected)  # 320: a second look
    assert min(widths) < 320 and any(word.text == "Edit" for line in lines if line for word in line.words)


def test_a_reading_that_ends_in_an_ellipsis_is_read_again_at_the_trained_width():
    image = Image.open(JUPYTER_MENU).convert("RGB")
    boxes = [Box(*box.to_ints()) for box in engine.find_text(image, 1920).boxes]
    pixels = np.asarray(image)[:, :, ::-1]
    crops = [np.ascontiguousarray(pixels[int(b.y1) : int(b.y2), int(b.x1) : int(b.x2)]) for b in boxes]
    _, recognizer = engine.models()
    narrow = recognizer._read(crops, recognizer.NARROWEST, True)
    trained = recognizer._read(crops, recognizer.trained_ratio, True)
    read = recognizer(crops)
    ellipses = [i for i, (text, *_) in enumerate(narrow) if text.rstrip().endswith("..")]
    assert len(ellipses) >= 5  # the File menu's items that open a dialog: "Save Notebook As...", "Print..."
    assert [read[i][0] for i in ellipses] == [trained[i][0] for i in ellipses]
    assert all(read[i][0] == narrow[i][0] for i in range(len(crops)) if i not in ellipses)
