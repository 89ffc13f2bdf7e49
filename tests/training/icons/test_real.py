"""Harvested shots -> training crops: controls' regions learn their names, regions outside any control are
background, regions that may be unnamed icons are left out."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training.icons.real import Shot, clean, crops_of, shots


@pytest.mark.parametrize("name, said", [
    ("_Open...", "Open"), ("Save As…", "Save As"), ("Bold (CTRL+B)", "Bold"),
    ("Undo last action (Ctrl+Z)", "Undo last action"), ("Redo Ctrl+Shift+Z", "Redo"), ("\uf0c9", ""), ("12", ""),
    ("notes.txt", ""), ("/home/user", ""),
    ("Zoom In", "Zoom In"), ("pan-down-symbolic", "pan-down-symbolic"),
])
def test_names_are_cleaned_as_a_person_would_say_them(name, said):
    assert clean(name) == said


def toolbar(path) -> list[dict]:
    """A light toolbar with a record dot, a select square and a file-type icon in a list row, a word and a rule."""
    image = Image.new("RGB", (900, 240), (246, 245, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 30, 54, 54), fill=(200, 30, 30))
    draw.rectangle((90, 30, 114, 54), outline=(40, 40, 40), width=3)
    draw.polygon([(150, 130), (174, 130), (162, 108)], fill=(40, 90, 200))
    draw.line((300, 40, 300, 70), fill=(120, 120, 120), width=2)
    draw.text((400, 35), "Preferences", fill=(30, 30, 30), font_size=22)
    draw.line((20, 200, 880, 200), fill=(150, 150, 150), width=1)
    draw.rectangle((600, 150, 640, 172), outline=(90, 90, 90), width=2)  # an input's corner, outside any control
    image.save(path)

    def element(role, name, box):
        return {"role": role, "name": name, "description": "", "states": ["showing", "visible"], "box": box,
                "image_box": box}

    return [
        element("frame", "Toolbar demo", [0, 0, 900, 240]), element("push button", "Record", [24, 24, 60, 60]),
        element("toggle button", "Select (Ctrl+A)", [84, 24, 120, 60]),
        element("list item", "report.pdf", [140, 100, 360, 140]), element("label", "Preferences", [395, 30, 560, 62]),
    ]


def test_a_shot_gives_named_control_crops_and_background_but_nothing_from_list_rows(tmp_path):
    import grounding
    from grounding.icons.offline import words_on_screen
    from grounding.inputs import load_image

    elements = toolbar(tmp_path / "shot.png")
    shot = Shot("demo", tmp_path / "shot.png", 1, tuple(elements))
    grounder = grounding.load("offline", zoom=False)
    crops, labels = crops_of(shot, grounder)
    names = [name for name, _ in labels]
    assert crops.shape[0] == len(labels) and crops.dtype == np.uint8
    assert "Record" in names and "Select" in names  # the shortcut hint is not part of the name
    assert "" in names  # background: the rule, the input's corner
    assert "report.pdf" not in names
    image = load_image(tmp_path / "shot.png")
    boxes, _ = grounder.icons.regions(np.asarray(image), words_on_screen(grounder.text.read(image)))
    in_row = [b for b in boxes if 140 <= b.center.x <= 360 and 100 <= b.center.y <= 140]
    assert in_row  # the file-type icon was proposed ...
    assert len(labels) <= len(boxes) - len(in_row)  # ... and left out
    varied, same = crops_of(shot, grounder, variants=3)
    assert same == labels * 3 and np.array_equal(varied[: len(labels)], crops)
    assert not np.array_equal(varied[len(labels):2 * len(labels)], crops)  # jittered cuts of the same regions


def test_shots_are_read_with_their_look(tmp_path):
    folder = tmp_path / "shots" / "demo"
    folder.mkdir(parents=True)
    (folder / "look.json").write_text(json.dumps({"look": {"scale": 2}, "elements": toolbar(folder / "look.png")}))
    [shot] = shots(tmp_path / "shots")
    assert shot.app == "demo" and shot.scale == 2 and shot.path == folder / "look.png" and len(shot.elements) == 5


def test_unscaled_extents_of_a_scale_2_shot_are_put_in_its_pixels(tmp_path):
    folder = tmp_path / "shots" / "demo"
    folder.mkdir(parents=True)
    elements = toolbar(folder / "look.png")  # 900 x 240 pixels
    halved = [{**e, "image_box": [v / 2 for v in e["image_box"]]} for e in elements]
    (folder / "look.json").write_text(json.dumps({"look": {"scale": 2}, "elements": halved}))
    [shot] = shots(tmp_path / "shots")
    assert [e["image_box"] for e in shot.elements] == [e["image_box"] for e in elements]
    (folder / "look.json").write_text(json.dumps({"look": {"scale": 2}, "elements": elements}))  # already in pixels
    [shot] = shots(tmp_path / "shots")
    assert [e["image_box"] for e in shot.elements] == [e["image_box"] for e in elements]
