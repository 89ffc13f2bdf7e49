"""The `ocr` grounder on the committed sample screenshots: accuracy, caching, threads, options, not-found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

import grounding
from grounding.errors import InstructionError, OptionError
from grounding.geometry import Box
from grounding.ocr import engine
from grounding.ocr.grounder import _read_until_settled
from grounding.ocr.instruction import parse
from grounding.ocr.match import candidates
from grounding.ocr.rank import rank
from tests.conftest import REPO

SAMPLES = REPO / "samples"
WRITER = SAMPLES / "images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
INKSCAPE_4K = SAMPLES / "images/inkscape_linux/inkscape_3840x2160_menu_extensions.png"
DJANGO_4K = SAMPLES / "images/django_admin_web/order_change.png"
NOTEBOOK_MENU = SAMPLES / "images/jupyterlab_web/notebook_file_menu.png"


def records(*apps: str) -> list[dict]:
    out = []
    for app in apps:
        out += json.loads((SAMPLES / "annotations" / f"{app}.json").read_text())
    return out


@pytest.fixture(scope="module")
def ocr():
    return grounding.load("ocr", zoom=False)  # the grounder itself; the zoom loop has its own tests


def test_sample_text_targets(ocr):
    # A web app at 4K (2x scale), a web app at 1080p and a desktop app at 1080p.
    targets = [
        r for r in records("django_admin_web", "streamlit_web", "libreoffice_writer_linux") if r["ui_type"] == "text"
    ]
    assert len(targets) >= 15
    images = {}
    hits = []
    for record in targets:
        path = SAMPLES / "images" / record["img_filename"]
        image = images.setdefault(path, Image.open(path))
        assert list(image.size) == record["img_size"]
        prediction = ocr.locate(image, record["instruction"])
        hits.append(prediction.found and Box.of(record["bbox"]).contains(prediction.point))
    assert sum(hits) / len(hits) >= 0.85, hits


def test_prediction_explains_itself(ocr):
    prediction = ocr.locate(Image.open(WRITER), "click 'Edit' in the menu bar")
    assert prediction.found
    assert Box(37, 21, 76, 48).contains(prediction.point)  # the annotated Edit menu
    assert prediction.box is not None and prediction.box.contains(prediction.point)
    assert prediction.score >= 0.9
    assert prediction.extra["target"] == "Edit"
    assert prediction.extra["matched"] == "Edit"
    assert prediction.extra["candidates"][0]["text"] == "Edit"
    assert json.loads(prediction.raw)["matched"] == "Edit"
    assert prediction.elapsed_s > 0


def test_second_instruction_on_a_screenshot_reuses_the_ocr(ocr):
    image = Image.open(WRITER)
    first = ocr.locate(image, "show the Styles menu")
    again = ocr.locate(Image.open(WRITER), "show the Styles menu")  # a new PIL object, same pixels
    assert again.extra["ocr_cached"] is True
    assert again.extra["boxes_read"] == 0
    assert again.point == first.point
    assert Box(235, 21, 287, 48).contains(again.point)


def test_absent_text_is_not_found_with_a_low_score(ocr):
    prediction = ocr.locate(Image.open(WRITER), "click the Frobnicate Quuxification button")
    assert prediction.status is grounding.Status.NOT_FOUND
    assert prediction.point is None
    assert prediction.score < 0.6
    assert prediction.extra["candidates"]  # the near misses are still shown
    assert prediction.final  # the whole screen was read at full detail: magnified tiles would read it again


def test_only_an_exact_reading_found_once_is_final(ocr):
    """A zoom loop narrows what is not final: a fuzzy reading, or words that stand in two places."""
    image = Image.open(WRITER)
    once = ocr.locate(image, "click 'Edit' in the menu bar")
    assert once.found and once.final
    twice = ocr.locate(image, "click 'Operations'")
    assert twice.found and not twice.final
    assert sum(candidate["similarity"] == 1.0 for candidate in twice.extra["candidates"]) >= 2
    fuzzy = ocr.locate(image, "open the Formatt menu")
    assert fuzzy.found and not fuzzy.final


@pytest.mark.parametrize(
    ("instruction", "matched", "most_read"),
    [
        ("click 'Edit' in the menu bar", "Edit", 0.25),  # the top of the screen is read first, and settles it
        ("show the Styles menu", "Styles", 0.5),  # no place said: boxes as wide as "Styles" first
        ("click the Frobnicate Quuxification button", None, 1.0),  # nothing matches: every box is read
    ],
)
def test_reading_stops_when_no_unread_box_could_match_better(instruction, matched, most_read):
    image = Image.open(WRITER).convert("RGB")
    screen = engine.Screen.detected(image, 1920)
    query = parse(instruction)
    ranked, read = _read_until_settled(query, screen, image)
    assert read <= most_read * len(screen.boxes)
    screen.read(image)
    everything = rank(query, candidates(query.target, screen.lines()), image.size)
    if matched is None:
        assert read == len(screen.boxes) and everything[0].score < 0.6
    else:
        assert ranked[0].candidate.text == matched
        assert ranked[0].candidate == everything[0].candidate  # what reading every box would have answered


@pytest.mark.parametrize("label", ["Open from URL...", "Open Recent", "New View for Notebook", "Save All"])
def test_an_upper_item_of_an_open_menu_is_read_as_early_as_a_lower_one(label):
    """Below the band menu bars sit in, the open-menu hint is level, so an item near the menu's top settles the
    reading without every item below it being read first (they all used to promise a better place)."""
    image = Image.open(NOTEBOOK_MENU).convert("RGB")
    screen = engine.Screen.detected(image, 1920)
    query = parse(f"choose {label} from the menu")
    ranked, read = _read_until_settled(query, screen, image)
    assert ranked[0].candidate.text == label
    assert read <= 0.15 * len(screen.boxes)
    screen.read(image)
    assert rank(query, candidates(query.target, screen.lines()), image.size)[0].candidate == ranked[0].candidate


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [("hover over Arrange", [366, 103, 682, 130]), ("choose Manage Extensions from the menu", [366, 536, 682, 563])],
)
def test_a_1x_4k_screen_is_detected_only_as_far_as_the_instruction_needs(instruction, expected):
    """The sample's menu lies in the top-left tile: its label is found there, the other tiles are never detected, and
    the answer is the one a reading of the whole screen gives."""
    image = Image.open(INKSCAPE_4K).convert("RGB")
    screen = engine.Screen.detected(image, 1920)
    query = parse(instruction)
    ranked, _ = _read_until_settled(query, screen, image)
    assert len(screen.pending) == 3
    assert Box.of(expected).contains(ranked[0].candidate.box.center)
    screen.read(image)
    assert not screen.pending
    everything = rank(query, candidates(query.target, screen.lines()), image.size)
    assert ranked[0].candidate == everything[0].candidate


@pytest.mark.parametrize(
    "instruction, target",
    [
        # The purpose is cut off: "Delete to remove this order" is read nowhere, "Delete" is.
        ("Click Delete to remove this order", "Delete"),
        ("Find HISTORY (the change log of this order) and click it", "HISTORY"),
        # The purpose is the label's own: the sidebar's filter box reads "Start typing to filter…".
        ("click into the Start typing to filter… box", "Start typing to filter…"),
    ],
)
def test_a_task_style_instruction_finds_its_label(ocr, instruction, target):
    found = ocr.locate(Image.open(DJANGO_4K), instruction)
    assert found.found and found.extra["target"] == target, found.extra
    assert found.extra["matched"].startswith(target.rstrip("…")), found.extra


def test_misspelt_label_scores_below_an_exact_one(ocr):
    image = Image.open(WRITER)
    exact = ocr.locate(image, "open the Format menu")
    fuzzy = ocr.locate(image, "open the Formatt menu")
    assert fuzzy.found and fuzzy.point == exact.point
    assert fuzzy.score < exact.score


def test_read_exposes_lines_and_words(ocr):
    image = Image.open(WRITER)
    page = ocr.read(image)
    assert page.size == image.size
    assert len(page.lines) > 20
    for word in page.words:
        assert 0 <= word.box.x1 <= word.box.x2 <= image.width
        assert 0 <= word.box.y1 <= word.box.y2 <= image.height
    assert any(word.text == "Styles" or "Styles" in word.text for word in page.words)


def test_threads_share_one_reading(monkeypatch):
    calls = []
    real = engine.find_text

    def counting(image, max_side, **options):
        calls.append(image.size)
        return real(image, max_side, **options)

    monkeypatch.setattr(engine, "find_text", counting)
    crop = Image.open(WRITER).crop((0, 0, 900, 140))  # pixels no other test reads, so the cache is cold
    instructions = ["open the File menu", "click 'Edit' in the menu bar", "open the View menu", "open the Insert menu"]
    ocr = grounding.load("ocr", zoom=False)
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda i: ocr.locate(crop, i), instructions))
    assert calls == [crop.size]
    sequential = [ocr.locate(crop, i) for i in instructions]
    assert [p.point for p in parallel] == [p.point for p in sequential]
    assert all(p.found for p in parallel)
    xs = [p.point.x for p in parallel]
    assert xs == sorted(xs)  # File, Edit, View, Insert from left to right


def test_small_text_on_a_4k_screen_is_read():
    # A 2x-scaled page at 3840x2160: the downscaled detection pass is enough.
    ocr = grounding.load("ocr")
    prediction = ocr.locate(Image.open(DJANGO_4K), 'open the "HISTORY" link')
    truth = next(r for r in records("django_admin_web") if "HISTORY" in r["instruction"])
    assert Box.of(truth["bbox"]).contains(prediction.point)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"bogus": 1}, "does not take option"),
        ({"min_score": 1.5}, "min_score"),
        ({"det_limit": 10}, "det_limit"),
        ({"det_limit": "big"}, "det_limit"),
        ({"min_score": "high"}, "min_score"),
        ({"candidates": 0}, "candidates"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(OptionError, match=message):
        grounding.load("ocr", **options)


def test_options_change_behaviour():
    strict = grounding.load("ocr", min_score=0.99)
    prediction = strict.locate(Image.open(WRITER), "show the Stlyes menu")
    assert prediction.status is grounding.Status.NOT_FOUND


def test_empty_instruction_is_an_error(ocr):
    with pytest.raises(InstructionError):
        ocr.locate(Image.open(WRITER), "  ")


def test_import_is_light():
    code = ("import sys, grounding.ocr, grounding; grounding.load('ocr'); "
            "print(sorted(m for m in ('onnxruntime', 'rapidocr_onnxruntime', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "[]"


def test_disk_cache_is_opt_in(tmp_path):
    crop = tmp_path / "menu.png"
    Image.open(WRITER).crop((0, 0, 700, 60)).save(crop)
    env_dir = tmp_path / "cache"

    def run() -> dict:
        env = {**os.environ, "SCREENGROUND_OCR_CACHE": str(env_dir)}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "locate",
                str(crop),
                "open the Format menu",
                "--json",
                "--model",
                "ocr",
                "--no-zoom",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    first, second = run(), run()
    assert first["extra"]["ocr_cached"] is False
    assert second["extra"]["ocr_cached"] is True and second["extra"]["boxes_read"] == 0
    assert first["point"] == second["point"]
    assert len(list(env_dir.glob("*.json"))) == 1
