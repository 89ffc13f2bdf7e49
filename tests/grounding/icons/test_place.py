"""`offline` on instructions that locate by place or order, on a drawn form and on real screens."""

import html
import json
import re
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

import grounding
from tests.conftest import REPO, SAMPLES, require_tool

CN = REPO / "benchmarks" / "meaning" / "cn"


@pytest.fixture(scope="module")
def offline():
    return grounding.load("offline", zoom=False)


def drawn_form() -> Image.Image:
    """Two captioned fields, a check box before its label, two Save buttons, a Find dialog, a price "¥ 118"."""
    image = Image.new("RGB", (1280, 720), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    for caption, y in (("Name", 80), ("Email", 180)):
        draw.text((80, y), caption, font=font, fill=(20, 20, 20))
        draw.rectangle((80, y + 35, 420, y + 70), fill="white", outline=(120, 120, 120), width=2)
    draw.rectangle((80, 292, 100, 312), fill="white", outline=(60, 60, 60), width=2)
    draw.text((112, 290), "Remember me", font=font, fill=(20, 20, 20))
    for y in (100, 300):
        draw.rounded_rectangle((700, y, 840, y + 44), 6, fill=(225, 230, 240), outline=(90, 100, 130), width=2)
        draw.text((740, y + 10), "Save", font=font, fill=(20, 20, 20))
    draw.rectangle((600, 450, 1100, 650), fill="white", outline=(80, 80, 80), width=2)
    draw.rectangle((600, 450, 1100, 490), fill=(60, 90, 150))
    draw.text((620, 458), "Find", font=font, fill="white")
    draw.line((1068, 460, 1086, 478), fill="white", width=3)
    draw.line((1068, 478, 1086, 460), fill="white", width=3)
    draw.text((620, 520), "Price:", font=font, fill=(20, 20, 20))
    draw.text((700, 520), "\u00a5", font=font, fill=(20, 20, 20))
    draw.text((730, 520), "118", font=font, fill=(20, 20, 20))
    return image


@pytest.mark.parametrize(
    "instruction, box",
    [
        ("the field below Name", (80, 115, 420, 150)),
        ("the field below Email", (80, 215, 420, 250)),
        ("the checkbox left of 'Remember me'", (78, 290, 102, 314)),
        ("the first Save button", (700, 100, 840, 144)),
        ("the second Save button", (700, 300, 840, 344)),
        ("the close button of the Find dialog", (1062, 454, 1092, 484)),
        ("the RMB symbol before 118", (698, 520, 716, 550)),
    ],
)
def test_drawn_form(offline, instruction, box):
    found = offline.locate(drawn_form(), instruction)
    assert found.extra["source"] == "place"
    x1, y1, x2, y2 = box
    assert x1 <= found.point.x <= x2 and y1 <= found.point.y <= y2, found.point


def _truth(annotations: str, instruction_dev: str) -> tuple[Image.Image, tuple]:
    for record in json.loads((SAMPLES / "annotations" / annotations).read_text()):
        if record["instruction"] == instruction_dev:
            return Image.open(SAMPLES / "images" / record["img_filename"]).convert("RGB"), record["bbox"]
    raise AssertionError(instruction_dev)


@pytest.mark.parametrize(
    "annotations, truth_of, instruction",
    [
        ("inkscape_linux.json", "choose Previous Extension Settings from the menu",
         "the item below 'Previous Extension'"),
        ("inkscape_linux.json", "open the 'JessyInk' submenu", "the submenu above 'Modify Path'"),
        ("streamlit_web.json", "open the \"Plotting demo\" link",
         "the link between 'DataFrame demo' and 'Mapping demo'"),
    ],
)
def test_real_screens(offline, annotations, truth_of, instruction):
    image, (x1, y1, x2, y2) = _truth(annotations, truth_of)
    found = offline.locate(image, instruction)
    assert x1 <= found.point.x <= x2 and y1 <= found.point.y <= y2, (found.point, found.extra)


def test_a_chinese_relation_on_a_chinese_screen(offline):
    raw = json.loads((CN / "raw" / "geany_find_dialog.json").read_text(encoding="utf-8"))
    x1, y1, x2, y2 = next(e["bbox"] for e in raw["elements"] if e["name_en"] == "Search backwards")
    image = Image.open(CN / "images" / raw["img_filename"]).convert("RGB")
    found = offline.locate(image, "“使用转义序列”下方的复选框")
    assert x1 <= found.point.x <= x2 and y1 <= found.point.y <= y2


def test_places_can_be_turned_off(offline):
    plain = grounding.load("offline", zoom=False, places=False)
    assert plain.locate(drawn_form(), "the second Save button").extra["source"] != "place"


SHOP = REPO / "tests" / "apps" / "web" / "shop.html"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A shop page as headless Chromium draws it (a grid of cards that each end in "Add to Cart", a table of
    orders with a check box and Edit / Delete links on every row), and each marked element's box from its DOM."""
    browser = require_tool("chromium", "chromium")
    folder = tmp_path_factory.mktemp("shop")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", "--force-device-scale-factor=1", "--window-size=1280,900",
             f"--user-data-dir={folder / 'profile'}"]
    shot = folder / "shop.png"
    subprocess.run([*flags, f"--screenshot={shot}", SHOP.as_uri()], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*flags, "--dump-dom", SHOP.as_uri()], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    boxes = json.loads(html.unescape(re.search(r'data-boxes="([^"]*)"', dom)[1]))
    return Image.open(shot).convert("RGB"), boxes


@pytest.mark.parametrize(
    "instruction, element",
    [
        ("Click the “Add to Cart” button for the cat toy", "cart-cat"),
        ("the Add to Cart button for the Dog Bed", "cart-dog"),
        ("the 'Add to Cart' button of the Rabbit Hutch", "cart-rabbit"),  # the second row of cards
        ("the Add to Cart button below Bird Feeder", "cart-bird"),  # not the price right below the title
        ("the Delete link in the row of Ada Lovelace", "delete-ada"),
        ("the Edit link for Grace Hopper", "edit-grace"),
        ("the checkbox in the row of Alan Turing", "check-alan"),
        ("the delete link next to Alan Turing", "delete-alan"),
    ],
)
def test_a_control_by_the_item_it_belongs_to(offline, shop, instruction, element):
    image, boxes = shop
    found = offline.locate(image, instruction)
    assert found.extra["source"] == "place"
    x1, y1, x2, y2 = boxes[element]
    assert x1 <= found.point.x <= x2 and y1 <= found.point.y <= y2, (found.point, found.extra)


def test_a_cell_under_its_column_header(offline, shop):
    image, boxes = shop
    found = offline.locate(image, "the total in the row of Grace Hopper")
    assert found.extra["source"] == "place"
    x1, y1, x2, y2 = boxes["total-grace"]
    assert x1 <= found.point.x <= x2 and y1 <= found.point.y <= y2, (found.point, found.extra)
