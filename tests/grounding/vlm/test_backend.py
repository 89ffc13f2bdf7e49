"""The transformers backend end to end, offline on CPU, with tiny checkpoints built here.

A random tiny model writes garbage (-> wrong_format); a rigged one (`build_tiny(script=...)`) answers a fixed text,
so the point that comes out checks prompt -> processor resize -> generate -> parse -> map against known numbers.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from tests.conftest import require_module

require_module("torch", "pip install torch==2.13.0")
require_module("transformers", "pip install -e '.[vlm]'")

from PIL import Image, ImageDraw

import grounding
from grounding.errors import BackendError, ImageError, OptionError
from grounding.geometry import Box
from grounding.types import Status
from grounding.vlm.backend import vision_inputs
from grounding.vlm.families import FAMILIES
from grounding.vlm.resize import smart_resize
from grounding.vlm.tiny import build_tiny
from tests.conftest import REPO
from tools.image import crop

TINY_MAX_PIXELS = 128 * 28 * 28  # keeps the vision tokens (and the test time) small


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-vlm")
    return {
        "qwen2.5-vl": build_tiny(root / "qwen25", "qwen2.5-vl", max_pixels=TINY_MAX_PIXELS),
        "qwen3-vl": build_tiny(root / "qwen3", "qwen3-vl", max_pixels=TINY_MAX_PIXELS),
        # Both families force the answer to start with `... "coordinate": [`; the rigged models go on from "[".
        # (A script's characters must differ: each one's successor is fixed.)
        "qwen2.5-vl-scripted": build_tiny(root / "qwen25s", "qwen2.5-vl", max_pixels=TINY_MAX_PIXELS,
                                          script="[12, 34]"),
        # Qwen2-VL families answer right after the generation prompt, which ends in a newline.
        "qwen2-vl-scripted": build_tiny(root / "qwen2s", "qwen2-vl", max_pixels=TINY_MAX_PIXELS, script="\n(12,34)"),
        "qwen3-vl-scripted": build_tiny(root / "qwen3s", "qwen3-vl", max_pixels=TINY_MAX_PIXELS,
                                        script="[513, 264]"),
        # InfiGUI-G1's "the target is not there": an empty list right after the generation prompt.
        "qwen2.5-vl-empty": build_tiny(root / "qwen25e", "qwen2.5-vl", max_pixels=TINY_MAX_PIXELS, script="\n[]"),
    }


def screenshot(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 4, height // 3, width // 2, height // 2), fill=(40, 90, 200))
    draw.text((width // 4 + 4, height // 3 + 4), "OK", fill="white")
    return image


def near(point, x, y, tol=1e-6):
    return math.isclose(point.x, x, abs_tol=tol) and math.isclose(point.y, y, abs_tol=tol)


@pytest.mark.parametrize("arch", ["qwen2.5-vl", "qwen3-vl"])
def test_random_model_runs_end_to_end_and_yields_wrong_format(checkpoints, arch):
    grounder = grounding.load(arch, model=str(checkpoints[arch]), zoom=False, max_new_tokens=12)
    assert grounder.device == "cpu"
    prediction = grounder.locate(screenshot(333, 517), "click the OK button")
    family = grounder.family
    # A random model's text: whatever it is, the status must agree with what the family's parser makes of it.
    assert prediction.raw.startswith(family.answer_prefix)
    expected = Status.OK if family.parse(prediction.raw) else Status.WRONG_FORMAT
    assert prediction.status is expected is Status.WRONG_FORMAT
    assert prediction.point is None
    assert prediction.tokens > 100  # prompt (system prompt + image tokens) + generated
    assert prediction.elapsed_s > 0


def test_scripted_qwen25_point_maps_through_the_family_resize(checkpoints):
    grounder = grounding.load("qwen2.5-vl", model=str(checkpoints["qwen2.5-vl-scripted"]), zoom=False)
    image = screenshot(333, 517)  # not a multiple of 28 on either side
    prediction = grounder.locate(image, "click the OK button")
    # The family's resize, not the tiny checkpoint's own processor bounds (128 tokens): the same size as over HTTP.
    model_w, model_h = 336, 504
    assert prediction.extra["model_size"] == [model_w, model_h]
    assert prediction.raw.endswith('"coordinate": [12, 34]')
    assert prediction.status is Status.OK
    assert near(prediction.point, 12 * 333 / model_w, 34 * 517 / model_h)
    assert 0 < prediction.score <= 1
    assert prediction.trace[0].point == prediction.point


def test_scripted_qwen3_uses_0_1000(checkpoints):
    grounder = grounding.load("qwen3-vl", model=str(checkpoints["qwen3-vl-scripted"]), zoom=False,
                              max_pixels=TINY_MAX_PIXELS)
    prediction = grounder.locate(screenshot(1366, 768), "the OK button")
    assert prediction.status is Status.OK
    assert near(prediction.point, 0.513 * 1366, 0.264 * 768)
    # the size the model saw respects the factor 32 and the caller's max_pixels
    model_w, model_h = prediction.extra["model_size"]
    assert model_w % 32 == 0 and model_h % 32 == 0 and model_w * model_h <= TINY_MAX_PIXELS


@pytest.mark.parametrize("family", ["os-atlas", "uground", "ui-tars-v1"])
def test_qwen2_vl_families_in_0_1000(checkpoints, family):
    grounder = grounding.load(family, model=str(checkpoints["qwen2-vl-scripted"]), zoom=False)
    prediction = grounder.locate(screenshot(1000, 500), "the OK button")
    assert prediction.raw == "(12,34)" and prediction.status is Status.OK
    assert near(prediction.point, 12, 17)


def test_answer_outside_the_family_space_is_wrong_format(checkpoints):
    grounder = grounding.load("showui", model=str(checkpoints["qwen2-vl-scripted"]), zoom=False)
    prediction = grounder.locate(screenshot(1000, 500), "the OK button")
    assert prediction.raw == "(12,34)"  # parsed, but 12 is not a 0-1 coordinate
    assert prediction.status is Status.WRONG_FORMAT and prediction.point is None


def test_4k_screenshot_above_max_pixels(checkpoints):
    grounder = grounding.load("qwen2.5-vl", model=str(checkpoints["qwen2.5-vl-scripted"]), zoom=False,
                              max_pixels=64 * 28 * 28)
    prediction = grounder.locate(screenshot(3840, 2160), "the OK button")
    model_w, model_h = prediction.extra["model_size"]
    assert (model_h, model_w) == smart_resize(2160, 3840, 28, 4 * 28 * 28, 64 * 28 * 28)
    assert model_w * model_h <= 64 * 28 * 28
    assert near(prediction.point, 12 * 3840 / model_w, 34 * 2160 / model_h)


def test_crop_from_the_zoom_loop_maps_to_the_crop_pixels(checkpoints):
    grounder = grounding.load("qwen2.5-vl", model=str(checkpoints["qwen2.5-vl-scripted"]), zoom=False)
    view = crop(screenshot(1920, 1080), Box(701, 333, 1000, 590))
    prediction = grounder.locate(view.image, "the OK button")
    model_w, model_h = prediction.extra["model_size"]
    assert near(prediction.point, 12 * 299 / model_w, 34 * 257 / model_h)
    parent = view.to_parent.apply(prediction.point)
    assert near(parent, 701 + 12 * 299 / model_w, 333 + 34 * 257 / model_h)


def test_batch_equals_one_by_one(checkpoints):
    grounder = grounding.load("qwen2.5-vl", model=str(checkpoints["qwen2.5-vl-scripted"]), zoom=False,
                              batch_size=2)
    images = [screenshot(333, 517), screenshot(640, 400), screenshot(200, 900)]
    instructions = ["OK", "the blue button labelled OK in the middle", "OK button"]
    batched = grounder.locate_batch(images, instructions)
    single = [grounder.locate(image, text) for image, text in zip(images, instructions)]
    assert [p.point for p in batched] == [p.point for p in single]
    assert [p.tokens for p in batched] == [p.tokens for p in single]
    assert all(p.status is Status.OK for p in batched)


def test_zoom_loop_wraps_the_backend(checkpoints):
    path = str(checkpoints["qwen2.5-vl-scripted"])
    image = screenshot(1280, 800)
    plain = grounding.load("qwen2.5-vl", model=path, zoom=False, max_pixels=TINY_MAX_PIXELS).locate(image, "OK")
    zoomed = grounding.load("qwen2.5-vl", model=path, zoom=True, max_pixels=TINY_MAX_PIXELS).locate(image, "OK")
    assert zoomed.status is Status.OK and zoomed.calls >= 2
    assert 0 <= zoomed.point.x <= 1280 and 0 <= zoomed.point.y <= 800
    # The zoom loop's first look is the whole screen: the same answer as a plain call, up to its own downscale.
    first = zoomed.trace[0]
    assert first.point.distance(plain.point) < 0.02 * 1280


def test_cached_hub_id_loads_from_the_hf_cache(checkpoints, tmp_path, monkeypatch):
    from huggingface_hub import constants

    snapshot = tmp_path / "models--tiny-org--tiny-vl" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for file in checkpoints["qwen2.5-vl-scripted"].iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (tmp_path / "models--tiny-org--tiny-vl" / "refs").mkdir()
    (tmp_path / "models--tiny-org--tiny-vl" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    grounder = grounding.load("qwen2.5-vl", model="tiny-org/tiny-vl", zoom=False)
    assert grounder.locate(screenshot(300, 200), "OK").status is Status.OK


SCREENS = [(1920, 1080), (2560, 1440), (3840, 2160), (1337, 917)]
# Families that resize these screens alike need checking once: (factor, sizes) -> the families sharing them.
RESIZES: dict[tuple, list[str]] = {}
for _name, _family in FAMILIES.items():
    _sizes = tuple(_family.model_size(width, height) for width, height in SCREENS)
    RESIZES.setdefault((_family.resize.factor, _sizes), []).append(_name)


@pytest.mark.parametrize(("factor", "sizes"), list(RESIZES), ids=["+".join(names) for names in RESIZES.values()])
def test_the_processor_keeps_the_family_size_at_every_screen(checkpoints, factor, sizes):
    """The local path resizes once to the family's size; the checkpoint's processor must then keep it, or the prompt
    (which may state the size) and the answers' pixels would describe another image."""
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(checkpoints["qwen3-vl" if factor == 32 else "qwen2.5-vl"])
    vision = vision_inputs(processor, [screenshot(width, height) for width, height in SCREENS], list(sizes))
    grids = [(w * processor.patch_size, h * processor.patch_size) for _, h, w in vision["image_grid_thw"].tolist()]
    assert grids == list(sizes)
    assert vision["image_tokens"] == [(width // factor) * (height // factor) for width, height in sizes]


def test_a_checkpoint_of_another_patch_size_is_refused(checkpoints):
    with pytest.raises(BackendError, match=r"28-pixel tokens, the qwen3-vl family in 32-pixel ones"):
        grounding.load("qwen3-vl", model=str(checkpoints["qwen2.5-vl"]), zoom=False)


def test_an_empty_answer_is_not_found_for_infigui(checkpoints):
    grounder = grounding.load("infigui-g1", model=str(checkpoints["qwen2.5-vl-empty"]), zoom=False)
    assert grounder.max_new_tokens == 1024  # it reasons before it answers
    prediction = grounder.locate(screenshot(1337, 917), "the Quit button")
    assert prediction.raw == "[]"
    assert prediction.status is Status.NOT_FOUND and prediction.point is None


def test_bad_options_and_inputs(checkpoints):
    path = str(checkpoints["qwen2.5-vl"])
    with pytest.raises(OptionError, match="unknown dtype 'int3'"):
        grounding.load("qwen2.5-vl", model=path, dtype="int3", zoom=False)
    with pytest.raises(OptionError, match="max_pixels must be a positive integer"):
        grounding.load("qwen2.5-vl", model=path, max_pixels=0, zoom=False)
    with pytest.raises(OptionError, match="does not take option"):
        grounding.load("qwen2.5-vl", model=path, base_url="http://127.0.0.1:1", zoom=False)
    with pytest.raises(BackendError, match="model directory not found: ./no/such/dir"):
        grounding.load("qwen2.5-vl", model="./no/such/dir", zoom=False)
    grounder = grounding.load("qwen2.5-vl", model=path, zoom=False, max_new_tokens=2)
    with pytest.raises(ImageError, match="200:1"):
        grounder.locate(Image.new("RGB", (4000, 10)), "OK")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_requested_without_cuda(checkpoints):
    with pytest.raises(BackendError, match="CUDA is not available"):
        grounding.load("qwen2.5-vl", model=str(checkpoints["qwen2.5-vl"]), device="cuda", zoom=False)


def test_missing_weights_cli_message(tmp_path):
    image = tmp_path / "shot.png"
    screenshot(320, 200).save(image)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hub")}
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "locate", str(image), "OK", "--model", "gta1-7b-2507"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ground: error: weights for Salesforce/GTA1-7B-2507 not found locally; "
        "download them with `huggingface-cli download Salesforce/GTA1-7B-2507`"
    )


def test_a_dropped_preset_says_why(tmp_path):
    image = tmp_path / "shot.png"
    screenshot(320, 200).save(image)
    result = subprocess.run([sys.executable, "-m", "agent.cli", "locate", str(image), "OK", "--model", "gta1-32b"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("ground: error: gta1-32b was dropped: Salesforce/GTA1-32B is built on OpenCUA-32B")
    assert len(result.stderr.strip().splitlines()) == 1
    listing = subprocess.run([sys.executable, "-m", "agent.cli", "models"], capture_output=True, text=True, cwd=REPO,
                             timeout=120).stdout
    dropped = {line.split()[0]: line for line in listing.splitlines() if "dropped:" in line}
    assert set(dropped) == {"gta1-7b", "gta1-32b", "gta1-72b"}
    assert "OpenCUA" in dropped["gta1-7b"] and "gta1-7b-2507" in dropped["gta1-7b"]


def test_importing_grounding_stays_light():
    code = "import sys, grounding; grounding.available(); print('torch' in sys.modules, 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.split() == ["False", "False"]
    names = {entry.name for entry in grounding.available()}
    assert {"qwen2.5-vl", "qwen3-vl", "ui-tars", "gta1-7b-2507", "ui-venus-ground-7b", "ui-venus-ground-72b",
            "ui-venus-1.5-8b", "holo1.5-7b", "infigui-g1-7b", "gui-g2-7b", "os-atlas-base-7b", "uground-v1-7b",
            "showui-2b"} <= names
