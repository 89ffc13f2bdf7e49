"""Family conventions: prompts, the tolerant parser, smart resize and the coordinate maps (pure Python, fast)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from grounding.errors import UnknownModelError
from grounding.geometry import Box, Point
from grounding.vlm.families import (
    FAMILIES,
    Answer,
    answer_in_space,
    get_family,
    image_to_model,
    model_to_image,
    parse_answer,
    smart_resize,
)
from tools.image import crop
from tests.conftest import require_module


def near(point: Point, x: float, y: float) -> bool:
    return math.isclose(point.x, x, abs_tol=1e-9) and math.isclose(point.y, y, abs_tol=1e-9)

# ---------------------------------------------------------------------------------------------------- the parser

# The answer strings each family emits, as the conventions doc gives them, and what they must parse to.
EXACT_ANSWERS = [
    ("qwen2.5-vl", '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
                   '"coordinate": [412, 87]}}\n</tool_call>', (412, 87), None),
    ("qwen2.5-vl", '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
                   '"coordinate": [400, 80, 424, 94]}}\n</tool_call>', (412, 87), (400, 80, 424, 94)),
    ("qwen3-vl", "[523, 141]", (523, 141), None),
    ("ui-tars", "click(start_box='(1203,56)')", (1203, 56), None),
    ("ui-tars", "<|box_start|>(1203,56)<|box_end|>", (1203, 56), None),
    ("ui-tars", "<point>1203 56</point>", (1203, 56), None),
    ("ui-tars", "Action: click(point='<point>1203 56</point>')", (1203, 56), None),
    ("ui-tars-v1", "(627,34)", (627, 34), None),
    ("gta1", "(1203,56)", (1203, 56), None),
    ("ui-venus-ground", "[1180,40,1226,72]", (1203, 56), (1180, 40, 1226, 72)),
    ("ui-venus-1.5", "[627,34]", (627, 34), None),
    ("holo1.5", "Click(1203, 56)", (1203, 56), None),
    ("holo1.5", '{"x": 1203, "y": 56}', (1203, 56), None),
    ("infigui-g1", '[{"point_2d": [1203, 56]}, {"point_2d": [10, 20]}]', (1203, 56), None),
    ("gui-g2", "[1180,40,1226,72]", (1203, 56), (1180, 40, 1226, 72)),
    ("os-atlas", "<|box_start|>(615,20),(639,48)<|box_end|>", (627, 34), (615, 20, 639, 48)),
    ("uground", "(627, 34)", (627, 34), None),
    ("showui", "[0.63, 0.04]", (0.63, 0.04), None),
]


@pytest.mark.parametrize(("family", "text", "point", "box"), EXACT_ANSWERS)
def test_exact_answer_formats(family, text, point, box):
    answer = get_family(family).parse(text)
    assert answer is not None
    assert answer.point == Point(*point)
    assert answer.box == (Box(*box) if box else None)


def test_every_family_has_an_exact_answer_test():
    assert {family for family, *_ in EXACT_ANSWERS} == set(FAMILIES)


VARIANTS = [
    ("The element is at (412, 87).", (412, 87), None),  # extra text
    ("```json\n{\"coordinate\": [412, 87]}\n```", (412, 87), None),  # fenced JSON
    ('{"bbox_2d": [400, 80, 424, 94], "label": "OK"}', (412, 87), (400, 80, 424, 94)),
    ('[{"point_2d": [412.5, 87.25]}]', (412.5, 87.25), None),  # floats
    ("(615,20),(639,48)", (627, 34), (615, 20, 639, 48)),  # box tokens stripped by the decoder
    ("click(start_box='<|box_start|>(412,87)<|box_end|>')", (412, 87), None),
    ("click(start_box='[400, 80, 424, 94]')", (412, 87), (400, 80, 424, 94)),
    ("<point>412,87</point>", (412, 87), None),
    ("[412, 87]", (412, 87), None),
    ("412, 87", (412, 87), None),  # bare numbers
    ("[424, 94, 400, 80]", (412, 87), (400, 80, 424, 94)),  # corners swapped
    ("Thought: the menu (left, at (5, 5)) holds it.\nAction: click(start_box='(412,87)')", (412, 87), None),
    ("<think>maybe (1, 1)? no.</think>(412,87)", (412, 87), None),
    ("x=412, y=87", (412, 87), None),
    ("Click(412.0, 87.0)<|im_end|>", (412, 87), None),
]


@pytest.mark.parametrize(("text", "point", "box"), VARIANTS)
def test_tolerant_variants(text, point, box):
    answer = parse_answer(text)
    assert answer == Answer(Point(*point), Box(*box) if box else None)


@pytest.mark.parametrize("text", ["", "   ", "I cannot find that element.", "[1, 2, 3]", "step 1", "(a, b)",
                                  '{"x": "left"}', "<point></point>", "max=3"])
def test_unparsable_answers_give_none(text):
    assert parse_answer(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.from_regex(r"[\[\(<>{}\"':,0-9 .eE+\-x]{0,40}"))
def test_parser_never_raises(text):
    answer = parse_answer(text)
    assert answer is None or isinstance(answer, Answer)


# --------------------------------------------------------------------------------------------------- smart resize

def test_smart_resize_rounds_half_to_even_like_the_processor():
    # 1022 / 28 = 36.5: the processor (Python round) gives 36 * 28 = 1008; a half-up port gives 1036.
    assert smart_resize(1022, 1022, 28, 3136, 12845056) == (1008, 1008)
    assert smart_resize(1050, 1050, 28, 3136, 12845056) == (1064, 1064)  # 37.5 -> 38


@pytest.mark.parametrize(("size", "factor", "bounds", "expected"), [
    ((1920, 1080), 28, (3136, 12845056), (1932, 1092)),
    ((3840, 2160), 28, (3136, 12845056), (3836, 2156)),  # 4K fits the Qwen2.5 default
    ((3840, 2160), 28, (3136, 2560 * 1440), (2548, 1428)),  # 4K above Holo1.5's max: scaled by 1/1.5, floored
    ((3840, 2160), 32, (65536, 1920 * 1080), (1920, 1056)),
    ((333, 517), 28, (3136, 12845056), (336, 504)),  # odd sizes
    ((20, 30), 28, (3136, 12845056), (56, 84)),  # below min_pixels: scaled up, ceiled
    ((1366, 768), 32, (65536, 16777216), (1376, 768)),
])
def test_smart_resize_known_sizes(size, factor, bounds, expected):
    width, height = size
    h, w = smart_resize(height, width, factor, *bounds)
    assert (w, h) == expected
    assert w % factor == 0 and h % factor == 0
    assert bounds[0] <= w * h <= bounds[1]


@settings(max_examples=250, deadline=None)
@given(
    st.integers(1, 6000), st.integers(1, 6000), st.sampled_from([28, 32]),
    st.sampled_from([(3136, 12845056), (78400, 12845056), (2_000_000, 4_800_000), (65536, 16777216),
                     (200704, 1053696), (3136, 2560 * 1440)]),
)
def test_smart_resize_matches_transformers(height, width, factor, bounds):
    require_module("transformers", "pip install -e '.[vlm]'")
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as reference

    try:
        expected = reference(height, width, factor=factor, min_pixels=bounds[0], max_pixels=bounds[1])
    except ValueError:
        with pytest.raises(ValueError):
            smart_resize(height, width, factor, *bounds)
        return
    assert smart_resize(height, width, factor, *bounds) == expected


# --------------------------------------------------------------------------------------------- coordinate spaces

def test_resized_abs_maps_through_the_resize():
    family = get_family("gta1")
    model_size = family.model_size(1920, 1080)  # (1932, 1092)
    point, box = model_to_image(Answer(Point(966, 546)), family, model_size, (1920, 1080))
    assert near(point, 966 * 1920 / 1932, 546 * 1080 / 1092)
    assert box is None


def test_relative_spaces():
    point, _ = model_to_image(Answer(Point(500, 250)), get_family("qwen3-vl"), (1376, 768), (1366, 768))
    assert near(point, 683, 192)
    point, _ = model_to_image(Answer(Point(0.25, 0.5)), get_family("showui"), (1344, 756), (2560, 1440))
    assert near(point, 640, 720)
    answer = get_family("os-atlas").parse("<|box_start|>(100,200),(300,400)<|box_end|>")
    point, box = model_to_image(answer, "os-atlas", (1932, 1092), (1920, 1080))
    assert near(point, 384, 324)
    assert [round(v, 9) for v in box] == [192, 216, 576, 432]


def test_4k_above_max_pixels():
    family = get_family("holo1.5")
    model_size = family.model_size(3840, 2160)
    assert model_size == (2548, 1428)
    point, _ = model_to_image(Answer(Point(2548, 1428)), family, model_size, (3840, 2160))
    assert near(point, 3840, 2160)  # the model's far corner is the image's far corner
    point, _ = model_to_image(Answer(Point(1274, 714)), family, model_size, (3840, 2160))
    assert near(point, 1920, 1080)


def test_crop_answers_map_to_the_crop_then_the_parent():
    screenshot = Image.new("RGB", (3840, 2160))
    view = crop(screenshot, Box(1000, 500, 1333, 777))  # a 333x277 crop, as the zoom loop hands in
    family = get_family("qwen2.5-vl")
    model_size = family.model_size(*view.image.size)
    assert model_size == (336, 280)
    on_crop, _ = model_to_image(Answer(Point(168, 140)), family, model_size, view.image.size)
    assert near(on_crop, 166.5, 138.5)
    assert near(view.to_parent.apply(on_crop), 1166.5, 638.5)


def test_points_outside_the_answer_space_are_clamped_into_the_image():
    point, _ = model_to_image(Answer(Point(1200, -5)), "uground", (1932, 1092), (1920, 1080))
    assert near(point, 1920, 0)


def test_answers_far_outside_the_space_are_flagged():
    assert answer_in_space(Answer(Point(0.5, 0.99)), "showui", (1344, 756))
    assert not answer_in_space(Answer(Point(12, 34)), "showui", (1344, 756))
    assert answer_in_space(Answer(Point(1010, 0)), "uground", (1932, 1092))  # within 5%: clamped, not rejected
    assert not answer_in_space(Answer(Point(1932, 1200)), "gta1", (1932, 1092))
    assert not answer_in_space(Answer(Point(-200, 10)), "qwen3-vl", (1376, 768))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(FAMILIES)), st.integers(64, 5000), st.integers(64, 3000), st.floats(0, 1),
       st.floats(0, 1))
def test_format_parse_map_round_trip(name, width, height, fx, fy):
    """What `ground serve` writes for a point, a client parses and maps back to (nearly) the same pixel."""
    family = get_family(name)
    model_w, model_h = family.model_size(width, height)
    target = Point(fx * width, fy * height)
    in_model = Point(target.x * model_w / width, target.y * model_h / height)
    text = family.format_answer(in_model, model_w, model_h)
    answer = family.parse(text)
    assert answer is not None, text
    point, _ = model_to_image(answer, family, (model_w, model_h), (width, height))
    # Families write integers (0-1000 or model pixels) or 3 decimals: one unit of their space is the tolerance.
    unit_x = {"resized-abs": width / model_w, "0-1000": width / 1000, "0-1": width / 1000}[family.space]
    unit_y = {"resized-abs": height / model_h, "0-1000": height / 1000, "0-1": height / 1000}[family.space]
    assert abs(point.x - target.x) <= unit_x / 2 + 1e-6 and abs(point.y - target.y) <= unit_y / 2 + 1e-6
    back = image_to_model(point, family, (model_w, model_h), (width, height))
    assert math.isclose(back.x, answer.point.x, abs_tol=1e-6) and math.isclose(back.y, answer.point.y, abs_tol=1e-6)


# ------------------------------------------------------------------------------------------------------- prompts

@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_messages_carry_one_image_and_the_instruction(name):
    family = get_family(name)
    instruction = 'the "Save as…" button ($5 plan)'
    messages = family.messages(instruction, 1932, 1092)
    parts = [part for m in messages if isinstance(m["content"], list) for part in m["content"]]
    assert [p for p in parts if p["type"] == "image"] == [{"type": "image"}]
    text = "\n".join(m["content"] if isinstance(m["content"], str) else p.get("text", "")
                     for m in messages for p in ([m] if isinstance(m["content"], str) else m["content"]))
    assert instruction in text
    assert "$" not in text.replace(instruction, "")  # every placeholder was filled
    assert messages[-1]["role"] == "user"


@pytest.mark.parametrize("name", ["qwen2.5-vl", "gta1", "infigui-g1", "holo1.5"])
def test_resized_abs_prompts_state_the_size_the_model_sees(name):
    text = str(get_family(name).messages("x", 1932, 1092))
    assert "1932" in text and "1092" in text


def test_qwen3_prompt_states_its_relative_screen():
    text = str(get_family("qwen3-vl").messages("x", 1376, 768))
    assert "1000x1000" in text and "1376" not in text


def test_unknown_family():
    with pytest.raises(UnknownModelError, match="unknown model family 'qwen9'"):
        get_family("qwen9")
