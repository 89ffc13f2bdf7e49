"""Family conventions: prompts, the tolerant parser, the resize steps and the coordinate maps (pure Python, fast)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from grounding.errors import OptionError, UnknownModelError
from grounding.geometry import Box, Point
from grounding.types import Status
from grounding.vlm.answers import Answer, parse_answer
from grounding.vlm.families import FAMILIES, get_family, image_to_model, model_to_image
from grounding.vlm.resize import AreaCap, Resize, SmartResize, smart_resize
from grounding.vlm.spaces import SPACES, get_space
from tests.conftest import require_module
from tools.image import crop


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
    ("ui-venus-ground-72b", "[1180,40,1226,72]", (1203, 56), (1180, 40, 1226, 72)),
    ("holo1.5", '{"action": "click_absolute", "x": 1203, "y": 56}', (1203, 56), None),
    ("holo1.5", "Click(1203, 56)", (1203, 56), None),
    ("infigui-g1", '[{"point_2d": [1203, 56]}, {"point_2d": [10, 20]}]', (1203, 56), None),
    ("infigui-g1", '<think>left of (10, 20)</think>[{"point_2d": [1203, 56]}]', (1203, 56), None),
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
    def status(name, text, model_size):
        return get_family(name).read(text, model_size, (1920, 1080)).status

    assert status("showui", "[0.5, 0.99]", (1344, 756)) is Status.OK
    assert status("showui", "[12, 34]", (1344, 756)) is Status.WRONG_FORMAT
    assert status("uground", "(1010, 0)", (1932, 1092)) is Status.OK  # within 5%: clamped, not rejected
    assert status("gta1", "(1932,1200)", (1932, 1092)) is Status.WRONG_FORMAT
    assert status("qwen3-vl", "[-200, 10]", (1376, 768)) is Status.WRONG_FORMAT
    assert status("gta1", "I cannot see it", (1932, 1092)) is Status.WRONG_FORMAT


def test_not_found_answers_and_the_families_that_have_them():
    venus, infigui = get_family("ui-venus-1.5"), get_family("infigui-g1")
    assert venus.read("[-1,-1]", (1920, 1088), (1920, 1080)).status is Status.NOT_FOUND
    assert venus.read(" [ -1, -1 ]\n", (1920, 1088), (1920, 1080)).status is Status.NOT_FOUND
    assert venus.read("[-1,-1,5,5]", (1920, 1088), (1920, 1080)).status is not Status.NOT_FOUND
    assert infigui.read("<think>Not on this screen: [] is my answer.</think>[]", (1932, 1092),
                        (1920, 1080)).status is Status.NOT_FOUND
    # Families without a "not there" answer read [-1,-1] as a point off the screen: wrong_format, never a click.
    assert get_family("qwen3-vl").read("[-1,-1]", (1920, 1088), (1920, 1080)).status is Status.OK  # within 5%
    assert get_family("gta1").read("(-1,-1)", (1932, 1092), (1920, 1080)).point == Point(0, 0)
    assert [name for name, family in FAMILIES.items() if family.not_found] == ["ui-venus-1.5", "infigui-g1"]


def test_ui_venus_15_drops_one_final_period_from_the_instruction():
    def prompt(instruction):
        (message,) = get_family("ui-venus-1.5").messages(instruction, 1920, 1088)
        return message["content"][-1]["text"]

    assert "instruction: \nopen the File menu. \n\nThe output" in prompt("open the File menu.")
    assert prompt("open the File menu.") == prompt("open the File menu")
    assert "instruction: \nopen the File menu.. \n\n" in prompt("open the File menu..")  # only one is dropped


# ---------------------------------------------------------------------------------------------- the spaces table

def test_the_spaces_table():
    model_size = (1932, 1092)
    assert set(SPACES) == {"resized-abs", "0-1000", "0-1"}
    assert {family.space for family in FAMILIES.values()} == set(SPACES.values())
    absolute, per_mille, unit = get_space("resized-abs"), get_space("0-1000"), get_space("0-1")
    assert absolute.extent(model_size) == (1932, 1092) and per_mille.extent(model_size) == (1000, 1000)
    assert absolute.to_model(model_size).apply(Point(10, 20)) == Point(10, 20)
    assert near(per_mille.to_model(model_size).apply(Point(500, 250)), 966, 273)
    assert near(unit.to_model(model_size).apply(Point(0.5, 0.25)), 966, 273)
    assert (absolute.write(12.5), per_mille.write(12.6), unit.write(0.12345)) == ("12", "13", "0.123")
    assert absolute.describe(model_size) == "pixels of this 1932x1092 screenshot"
    assert per_mille.describe(model_size) == "0-1000 relative coordinates"
    assert absolute.in_pixels and not per_mille.in_pixels
    with pytest.raises(UnknownModelError, match="unknown coordinate space 'pixels'"):
        get_space("pixels")


# ---------------------------------------------------------------------------------------------- the resize steps

def test_area_cap_rounds_sides_and_never_enlarges():
    cap = AreaCap(5600 * 28 * 28)
    assert cap.apply(1920, 1080) == (1920, 1080)
    assert cap.apply(3840, 2160) == (2794, 1571)  # sqrt(4390400 / 8294400) = 0.72754...: 2793.8, 1571.5
    assert 2794 * 1571 <= 5600 * 28 * 28 + 2794 + 1571


def test_resize_steps_run_in_order_and_the_last_is_the_processor():
    steps = Resize((AreaCap(5600 * 28 * 28), SmartResize(28, 3136, 12845056)))
    assert steps.size(3840, 2160) == (2800, 1568)  # not 2772x1568: smart_resize of the capped 2794x1571 rounds up
    assert (steps.factor, steps.min_pixels, steps.max_pixels) == (28, 3136, 5600 * 28 * 28)
    assert steps.image_tokens((2800, 1568)) == 100 * 56
    with pytest.raises(ValueError, match="image processor"):
        Resize((AreaCap(100),))


def test_the_callers_pixel_budget_replaces_the_family_steps():
    venus = get_family("ui-venus-ground").resize  # 2M-4.8M pixels, then the processor
    assert venus.bounded(None, None) is venus
    small = venus.bounded(None, 500_000)
    assert small.steps == (SmartResize(28, 500_000, 500_000),)  # one bound given wins over the other's default
    assert small.bounded(None, None).size(3840, 2160) == small.size(3840, 2160)
    assert get_family("qwen3-vl").resize.bounded(100_000, None).steps == (SmartResize(32, 100_000, 16384 * 32 * 32),)
    with pytest.raises(OptionError, match="min_pixels"):
        venus.bounded(9000, 8000)


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
    # Families write integers (0-1000 or model pixels) or 3 decimals: one written unit is the tolerance.
    space = family.space
    steps_x, steps_y = ((model_w, model_h) if space.in_pixels else
                        (space.relative_extent * 10**space.decimals,) * 2)
    unit_x, unit_y = width / steps_x, height / steps_y
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


@pytest.mark.parametrize("name", ["qwen2.5-vl", "gta1", "infigui-g1"])
def test_resized_abs_prompts_state_the_size_the_model_sees(name):
    text = str(get_family(name).messages("x", 1932, 1092))
    assert "1932" in text and "1092" in text


def test_qwen3_prompt_states_its_relative_screen():
    text = str(get_family("qwen3-vl").messages("x", 1376, 768))
    assert "1000x1000" in text and "1376" not in text


def test_unknown_family():
    with pytest.raises(UnknownModelError, match="unknown model family 'qwen9'"):
        get_family("qwen9")
