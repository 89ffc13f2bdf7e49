"""Every family's whole path over HTTP at 1080p, 1440p, 4K and an odd size: prompt -> the family's resize -> a model
server on 127.0.0.1 that finds a red marker in what it was sent and answers in the family's own format and space ->
parse -> the caller's pixels.

The stub server does its own arithmetic (its own resize and space conversion), so this checks screenground's
family tables against an independent reading, and the image sizes it received against the authors' (reference.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

import grounding
from grounding import Box, Status
from grounding.vlm.families import FAMILIES
from tests.conftest import stub

REFERENCE = json.loads((Path(__file__).parent / "vlm" / "reference.json").read_text(encoding="utf-8"))
AUTHORS_SIZES = {fixture["family"]: fixture["sizes"] for fixture in REFERENCE["fixtures"]}
SCREENS = [(1920, 1080), (2560, 1440), (3840, 2160), (1337, 917)]
TOOL_CALL = (
    '<tool_call>\n{{"name": "computer_use", "arguments": {{"action": "left_click", "coordinate": [{x}, {y}]}}}}'
    "\n</tool_call>"
)
BOX = "[{x1},{y1},{x2},{y2}]"
# How each family writes its answer (the formats in reference.json's sample answers), for the stub to fill in.
ANSWER_FORMATS = {
    "qwen2.5-vl": TOOL_CALL,
    "qwen3-vl": TOOL_CALL,
    "ui-tars": "Action: click(point='<point>{x} {y}</point>')",
    "ui-tars-v1": "({x},{y})",
    "gta1": "({x},{y})",
    "ui-venus-ground": BOX,
    "ui-venus-ground-72b": BOX,
    "ui-venus-1.5": "[{x},{y}]",
    "holo1.5": '{{"action": "click_absolute", "x": {x}, "y": {y}}}',
    "infigui-g1": '<think>The red square is the target.</think>[{{"point_2d": [{x}, {y}]}}]',
    "gui-g2": BOX,
    "os-atlas": "<|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>",
    "uground": "({x}, {y})",
    "showui": "[{x}, {y}]",
}


def screen_with_marker(width: int, height: int) -> tuple[Image.Image, Box]:
    image = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 97):  # some structure, so resampling has edges to blur
        draw.line((0, row, width, row), fill=(180, 190, 200))
    marker = Box(round(width * 0.63), round(height * 0.41), round(width * 0.63) + 16, round(height * 0.41) + 16)
    draw.rectangle((marker.x1, marker.y1, marker.x2 - 1, marker.y2 - 1), fill=(255, 0, 0))
    return image, marker


def test_every_family_has_an_answer_format():
    assert set(ANSWER_FORMATS) == set(FAMILIES)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_whole_path_lands_on_the_marker_at_every_screen(name):
    family = FAMILIES[name]
    factor = family.resize.factor
    # A server with its processor's published bounds: it keeps what the family sends.
    server = (
        "--factor",
        str(factor),
        "--server-min-pixels",
        str(4 * factor * factor),
        "--server-max-pixels",
        str(16384 * factor * factor),
    )
    with stub("--mode", "marker", "--answer-format", ANSWER_FORMATS[name], "--space", family.space.name, *server) as (
        _,
        port,
    ):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m", family=name)
        for width, height in SCREENS:
            image, marker = screen_with_marker(width, height)
            prediction = grounder.locate(image, "click the red square")
            sent = httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"][-1]["sizes"][0]
            assert prediction.status is Status.OK, (width, height, prediction.raw)
            model_width = sent[0]
            # One written unit of the family's space, and one model pixel, in screen pixels: the rounding allowed.
            unit = width / model_width if family.space.in_pixels else width / 1000
            tolerance = 1.5 * max(unit, width / model_width) + 1
            assert prediction.point.distance(marker.center) <= tolerance, (width, height, prediction.raw)
            if name in AUTHORS_SIZES:
                assert sent == AUTHORS_SIZES[name][f"{width}x{height}"], (width, height)
