"""`ground locate` end to end, as a user runs it: a real subprocess on a committed sample screenshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grounding.registry import DEFAULT_MODEL
from tests.conftest import REPO

STREAMLIT = REPO / "samples/images/streamlit_web/hello_home.png"
CACHE_DIR: Path
RECORDS = json.loads((REPO / "samples/annotations/streamlit_web.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def shared_ocr_cache(tmp_path_factory):
    # The subprocesses share one disk cache, so the sample is read once for the whole module.
    global CACHE_DIR
    CACHE_DIR = tmp_path_factory.mktemp("ocr-cache")


def ground(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SCREENGROUND_DEBUG"}
    env["SCREENGROUND_OCR_CACHE"] = str(CACHE_DIR)
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )


def truth(instruction: str) -> list[int]:
    return next(
        r["bbox"] for r in RECORDS if r["instruction"] == instruction and r["img_filename"].endswith("hello_home.png")
    )


def inside(point, box) -> bool:
    x, y = point
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def test_json_answer_lands_in_the_annotated_box():
    instruction = "navigate to 'Mapping demo'"
    result = ground("locate", str(STREAMLIT), instruction, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"point", "box", "score", "status", "model", "elapsed_s"} <= answer.keys()
    assert answer["model"] == DEFAULT_MODEL and answer["status"] == "ok"
    assert inside(answer["point"], truth(instruction))
    assert len(answer["box"]) == 4 and 0 < answer["score"] <= 1


def test_plain_output_is_one_line_with_the_pixel():
    instruction = 'open the "Plotting demo" link'
    result = ground("locate", str(STREAMLIT), instruction)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    x, y = map(int, lines[0].split()[:2])
    assert inside((x, y), truth(instruction))


def test_annotate_writes_the_screenshot_with_the_point(tmp_path):
    out = tmp_path / "answer.png"
    result = ground("locate", str(STREAMLIT), "navigate to 'Mapping demo'", "--annotate", str(out))
    assert result.returncode == 0, result.stderr
    drawn = Image.open(out)
    original = Image.open(STREAMLIT).convert("RGB")
    assert drawn.size == original.size
    x, y = map(int, result.stdout.split()[:2])
    # The crosshair's arms are drawn in red next to the point; the original has no such red there.
    region = (x - 40, y - 40, x + 40, y + 40)
    assert red_pixels(drawn.convert("RGB").crop(region)) > 20 > red_pixels(original.crop(region))


def red_pixels(image: Image.Image) -> int:
    rgb = np.asarray(image).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())


def test_absent_target_exits_1_with_not_found():
    result = ground("locate", str(STREAMLIT), "click the Frobnicate Quuxification button", "--json")
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["status"] == "not_found" and answer["point"] is None
    assert answer["score"] < 0.6


def test_options_reach_the_grounder():
    strict = ground(
        "locate", str(STREAMLIT), "navigate to 'Maping demo'", "--model", "ocr", "-O", "min_score=0.99", "--json"
    )
    assert strict.returncode == 1 and json.loads(strict.stdout)["status"] == "not_found"


def test_unknown_option_and_model_are_one_line_errors():
    for args in (["-O", "bogus=1"], ["--model", "orc"]):
        result = ground("locate", str(STREAMLIT), "navigate to 'Mapping demo'", *args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert "did you mean 'ocr'" in ground("locate", str(STREAMLIT), "x", "--model", "orc").stderr


def test_models_lists_ocr():
    result = ground("models")
    assert result.returncode == 0
    assert any(line.startswith("ocr ") for line in result.stdout.splitlines())
