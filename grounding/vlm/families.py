"""Model families: how each open grounding model is prompted, how it answers, and in which coordinate space.

Pure Python on purpose (no torch, no transformers): the transformers backend, the OpenAI-compatible client and
`ground serve` all share these facts. Sources per family are in `shared/docs/vlm-conventions.md`.

Pixel spaces involved, for one call:
  image  -- the caller's image (a screenshot, or a crop the zoom loop handed in), W x H
  model  -- the same picture after the processor's smart resize, W' x H' (what the model sees)
  space  -- the numbers the model writes: "resized-abs" (model pixels), "0-1000" or "0-1" (relative)
Every step between them is a `grounding.geometry.Transform`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from string import Template
from typing import Literal

from ..errors import UnknownModelError
from ..geometry import Box, Point, Transform

Space = Literal["resized-abs", "0-1000", "0-1"]
SPACES: tuple[str, ...] = ("resized-abs", "0-1000", "0-1")

# Qwen2/2.5-VL processor defaults (patch 14 x merge 2); Qwen3-VL uses patch 16 x merge 2.
QWEN2_FACTOR, QWEN2_MIN_PIXELS, QWEN2_MAX_PIXELS = 28, 56 * 56, 16384 * 28 * 28
QWEN3_FACTOR, QWEN3_MIN_PIXELS, QWEN3_MAX_PIXELS = 32, 64 * 32 * 32, 16384 * 32 * 32


# ----------------------------------------------------------------------------------------------- resize and spaces


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(H', W') exactly as the Qwen2-VL image processor computes them.

    Both sides become multiples of `factor` with min_pixels <= H'*W' <= max_pixels. Python's `round` (half to even)
    is part of the contract: a half-away-from-zero port gives 1036 where the processor gives 1008, and every click
    lands a few pixels off. Raises ValueError for an aspect ratio over 200, as the processor does.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image has no pixels: {width}x{height}")
    if max(height, width) / min(height, width) > 200:
        ratio = max(height, width) / min(height, width)
        raise ValueError(f"aspect ratio {ratio:.0f}:1 is over the model's 200:1 limit")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def space_to_model(space: str, model_size: tuple[int, int]) -> Transform:
    """Maps the numbers a model writes onto the pixels of the (resized) image it saw."""
    width, height = model_size
    if space == "resized-abs":
        return Transform.identity()
    if space == "0-1000":
        return Transform.scaling(width / 1000, height / 1000)
    if space == "0-1":
        return Transform.scaling(width, height)
    raise ValueError(f"unknown coordinate space {space!r} (one of {', '.join(SPACES)})")


# ------------------------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Answer:
    """What a model wrote, in its own coordinate space: a point, and the box when it answered with one."""

    point: Point
    box: Box | None = None


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_PAIR = rf"({_NUM})\s*[,\s]\s*({_NUM})"
_QUAD = rf"({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})"

# Tried in order; the first that matches anywhere in the text wins (models put the answer first or alone).
_KEYED_BOX = re.compile(rf"""["']?(?:bbox_2d|bbox|box)["']?\s*[:=]\s*[\[(]\s*{_QUAD}\s*[\])]""", re.IGNORECASE)
_KEYED_POINT = re.compile(
    rf"""["']?(?:point_2d|coordinate|click_point|point|position)["']?\s*[:=]\s*[\[(]\s*({_NUM})\s*,\s*({_NUM})"""
    rf"""(?:\s*,\s*({_NUM})\s*,\s*({_NUM}))?\s*[\])]""",
    re.IGNORECASE,
)
_XY = re.compile(
    rf"""(?<![A-Za-z_])["']?x["']?\s*[:=]\s*({_NUM})\s*[,;\s]\s*["']?y["']?\s*[:=]\s*({_NUM})""", re.IGNORECASE
)
_POINT_TAG = re.compile(rf"<point>\s*{_PAIR}\s*</point>", re.IGNORECASE)
_BOX_TOKENS = re.compile(r"<\|box_start\|>(.*?)<\|box_end\|>", re.DOTALL)
_START_BOX = re.compile(r"start_box\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
_TWO_PAIRS = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]\s*,?\s*[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]")
_BRACKETED = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})(?:\s*,\s*({_NUM})\s*,\s*({_NUM}))?\s*[\])]")
_ONLY_NUMBERS = re.compile(rf"^[\s\[\](),]*{_NUM}(?:[\s,]+{_NUM})*[\s\[\](),]*$")


def _answer(values: list[float]) -> Answer | None:
    if len(values) == 2:
        return Answer(Point(values[0], values[1]))
    if len(values) == 4:
        box = Box.from_corners(*values)
        return Answer(box.center, box)
    return None


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(_NUM, text)]


def _groups(match: re.Match[str]) -> list[float]:
    return [float(v) for v in match.groups() if v is not None]


def _final_part(text: str) -> str:
    """Drops reasoning that may itself mention coordinates: text after </think>, and after UI-TARS's `Action:`."""
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    if re.search(r"\bAction:", text):
        text = re.split(r"\bAction:", text)[-1]
    return text


def parse_answer(text: str) -> Answer | None:
    """The first point or box in a model's answer, in any of the formats the families emit, or None.

    Two numbers make a point; four make a box [x1, y1, x2, y2] whose centre is the point. Never raises.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = _final_part(text)
    for pattern in (_KEYED_BOX, _KEYED_POINT, _XY, _POINT_TAG):
        match = pattern.search(text)
        if match:
            return _answer(_groups(match))
    for pattern in (_BOX_TOKENS, _START_BOX):
        match = pattern.search(text)
        if match:
            found = _answer(_numbers(match.group(1)))
            if found:
                return found
    for pattern in (_TWO_PAIRS, _BRACKETED):
        match = pattern.search(text)
        if match:
            return _answer(_groups(match))
    if _ONLY_NUMBERS.match(text.strip()):
        return _answer(_numbers(text))
    return None


# ------------------------------------------------------------------------------------------------------ families


@dataclass(frozen=True)
class Family:
    """One model family's conventions. A preset picks a family and a model id; nothing else differs.

    Prompt templates use `$instruction`, `$width`, `$height` (the size the model sees). `answer` is a template of how
    the family writes a point (`$x`, `$y` in its space), used to answer in its format. `answer_prefix` is text the
    transformers backend puts at the start of the model's turn to force the answer shape (empty: none).
    """

    name: str
    description: str
    models: tuple[str, ...]  # known hub ids; the first is the default
    space: Space
    user: str
    answer: str
    system: str | None = None
    preamble: str | None = None  # user text placed before the image (ShowUI puts its instructions there)
    answer_prefix: str = ""
    factor: int = QWEN2_FACTOR
    min_pixels: int = QWEN2_MIN_PIXELS
    max_pixels: int = QWEN2_MAX_PIXELS
    # True where the family's reference inference sets min/max pixels itself, overriding the checkpoint's processor.
    pin_pixels: bool = False

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ValueError(f"family {self.name}: unknown space {self.space!r}")

    @property
    def default_model(self) -> str:
        return self.models[0]

    def messages(self, instruction: str, width: int, height: int) -> list[dict]:
        """OpenAI-style chat messages; the screenshot is the content part {"type": "image"}."""
        values = {"instruction": instruction, "width": int(width), "height": int(height)}
        content: list[dict] = []
        if self.preamble:
            content.append({"type": "text", "text": Template(self.preamble).safe_substitute(values)})
        content.append({"type": "image"})
        content.append({"type": "text", "text": Template(self.user).safe_substitute(values)})
        messages: list[dict] = []
        if self.system:
            messages.append({"role": "system", "content": Template(self.system).safe_substitute(values)})
        messages.append({"role": "user", "content": content})
        return messages

    def parse(self, text: str) -> Answer | None:
        return parse_answer(text)

    def model_size(
        self, width: int, height: int, *, min_pixels: int | None = None, max_pixels: int | None = None
    ) -> tuple[int, int]:
        """(W', H'): the size a W x H image has once resized for this family (family defaults unless given)."""
        h, w = smart_resize(
            height, width, self.factor, min_pixels or self.min_pixels, max_pixels or self.max_pixels
        )
        return w, h

    def format_answer(self, point: Point, model_width: int, model_height: int) -> str:
        """How this family would write `point` (in pixels of the W' x H' image it saw): the inverse of `parse`."""
        x, y = space_to_model(self.space, (model_width, model_height)).inverse().apply(point)
        if self.space == "0-1":
            xs, ys = f"{x:.3f}", f"{y:.3f}"
        else:
            xs, ys = str(round(x)), str(round(y))
        return Template(self.answer).substitute(x=xs, y=ys)


def model_to_image(
    answer: Answer, family: Family | str, model_size: tuple[int, int], image_size: tuple[int, int]
) -> tuple[Point, Box | None]:
    """An answer in the family's space as (point, box) in pixels of the caller's W x H image.

    model_size is (W', H') the model saw, image_size (W, H) the image that was resized to it. The point is kept
    inside the image: a click outside it cannot be meant.
    """
    family = get_family(family) if isinstance(family, str) else family
    to_image = space_to_model(family.space, model_size).then(Transform.between_sizes(model_size, image_size))
    frame = Box(0, 0, *image_size)
    point = frame.clamp_point(to_image.apply(answer.point))
    box = to_image.apply_box(answer.box).clip(*image_size) if answer.box else None
    return point, box


def answer_in_space(answer: Answer, family: Family | str, model_size: tuple[int, int], slack: float = 0.05) -> bool:
    """Whether the answer lies in the family's space (with `slack` of its extent to spare): (12, 34) from a 0-1
    model is not a point on the screen but a misread, and is better reported as wrong_format than clamped."""
    family = get_family(family) if isinstance(family, str) else family
    width, height = {"resized-abs": model_size, "0-1000": (1000, 1000), "0-1": (1, 1)}[family.space]
    x, y = answer.point
    return -slack * width <= x <= (1 + slack) * width and -slack * height <= y <= (1 + slack) * height


def image_to_model(
    point: Point, family: Family | str, model_size: tuple[int, int], image_size: tuple[int, int]
) -> Point:
    """A point in the caller's image pixels as the numbers the family would write (the inverse of model_to_image)."""
    family = get_family(family) if isinstance(family, str) else family
    to_image = space_to_model(family.space, model_size).then(Transform.between_sizes(model_size, image_size))
    return to_image.inverse().apply(point)


# --------------------------------------------------------------------------------------------------- the families


def _computer_use_system(width: str, height: str) -> str:
    """Qwen's computer-use tool-call system prompt, as its agent framework renders the `computer_use` tool.

    The models were trained on this rendering, so its structure (tool JSON inside <tools>, the action list, the
    screen-resolution sentence) is kept; only the resolution changes per call.
    """
    actions = {
        "key": "Press the keys given in `keys` down in order, then release them in reverse order.",
        "type": "Type a string of text on the keyboard.",
        "mouse_move": "Move the cursor to a specified (x, y) pixel coordinate on the screen.",
        "left_click": "Click the left mouse button.",
        "left_click_drag": "Click and drag the cursor to a specified (x, y) pixel coordinate on the screen.",
        "right_click": "Click the right mouse button.",
        "middle_click": "Click the middle mouse button.",
        "double_click": "Double-click the left mouse button.",
        "scroll": "Performs a scroll of the mouse scroll wheel.",
        "wait": "Wait specified seconds for the change to happen.",
        "terminate": "Terminate the current task and report its completion status.",
    }
    tool = {
        "type": "function",
        "function": {
            "name_for_human": "computer_use",
            "name": "computer_use",
            "description": (
                "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
                "* This is an interface to a desktop GUI. You do not have access to a terminal or applications menu. "
                "You must click on desktop icons to start applications.\n"
                "* Some applications may take time to start or process actions, so you may need to wait and take "
                "successive screenshots to see the results of your actions.\n"
                f"* The screen's resolution is {width}x{height}.\n"
                "* Whenever you intend to move the cursor to click on an element like an icon, you should consult a "
                "screenshot to determine the coordinates of the element before moving the cursor.\n"
                "* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the "
                "element. Don't click boxes on their edges unless asked."
            ),
            "parameters": {
                "properties": {
                    "action": {
                        "description": "The action to perform. The available actions are:\n"
                        + "\n".join(f"* `{name}`: {what}" for name, what in actions.items()),
                        "enum": list(actions),
                        "type": "string",
                    },
                    "keys": {"description": "Required only by `action=key`.", "type": "array"},
                    "text": {"description": "Required only by `action=type`.", "type": "string"},
                    "coordinate": {
                        "description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) "
                        "coordinates to move the mouse to. Required only by `action=mouse_move` and "
                        "`action=left_click_drag`.",
                        "type": "array",
                    },
                    "pixels": {"description": "The amount of scrolling to perform. Positive values scroll up, "
                               "negative values scroll down. Required only by `action=scroll`.", "type": "number"},
                    "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"},
                    "status": {"description": "The status of the task. Required only by `action=terminate`.",
                               "type": "string", "enum": ["success", "failure"]},
                },
                "required": ["action"],
                "type": "object",
            },
            "args_format": "Format the arguments as a JSON object.",
        },
    }
    return (
        "You are a helpful assistant.\n\n\n# Tools\n\nYou may call one or more functions to assist with the user "
        "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        + json.dumps(tool)
        + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
        "<args-json-object>}\n</tool_call>"
    )


_TOOL_CALL_PREFIX = '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": ['
_TOOL_CALL_ANSWER = _TOOL_CALL_PREFIX + "$x, $y]}}\n</tool_call>"
_BOX_ANSWER = "[$x,$y,$x,$y]"  # a point written as a zero-size box, for families that answer with boxes
_VENUS_BOX_PROMPT = (
    "Outline the position corresponding to the instruction: $instruction. The output should be only [x1,y1,x2,y2]."
)

_FAMILY_LIST = (
    Family(
        name="qwen2.5-vl",
        description="Qwen2.5-VL instruct models, computer-use tool call, absolute pixels of the resized image",
        models=("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2.5-VL-32B-Instruct",
                "Qwen/Qwen2.5-VL-72B-Instruct"),
        space="resized-abs",
        system=_computer_use_system("${width}", "${height}"),
        user="$instruction",
        answer_prefix=_TOOL_CALL_PREFIX,
        answer=_TOOL_CALL_ANSWER,
    ),
    Family(
        name="qwen3-vl",
        description="Qwen3-VL instruct models, computer-use tool call, 0-1000 relative coordinates",
        models=("Qwen/Qwen3-VL-8B-Instruct", "Qwen/Qwen3-VL-2B-Instruct", "Qwen/Qwen3-VL-4B-Instruct",
                "Qwen/Qwen3-VL-32B-Instruct", "Qwen/Qwen3-VL-30B-A3B-Instruct"),
        space="0-1000",
        # Qwen3-VL was trained to click on a virtual 1000x1000 screen, whatever the real size.
        system=_computer_use_system("1000", "1000"),
        user="$instruction",
        answer_prefix=_TOOL_CALL_PREFIX,
        answer=_TOOL_CALL_ANSWER,
        factor=QWEN3_FACTOR,
        min_pixels=QWEN3_MIN_PIXELS,
        max_pixels=QWEN3_MAX_PIXELS,
    ),
    Family(
        name="ui-tars",
        description="UI-TARS-1.5 (Qwen2.5-VL architecture), grounding template, absolute pixels of the resized image",
        models=("ByteDance-Seed/UI-TARS-1.5-7B",),
        space="resized-abs",
        user=(
            "You are a GUI agent. You are given a task and your action history, with screenshots. You need to "
            "perform the next action to complete the task."
            "\n\n## Output Format\n\nAction: ...\n\n\n## Action Space\nclick(point='<point>x1 y1</point>')\n\n"
            "## User Instruction\n$instruction"
        ),
        answer="Action: click(point='<point>$x $y</point>')",
        min_pixels=100 * 28 * 28,
        max_pixels=16384 * 28 * 28,
        pin_pixels=True,
    ),
    Family(
        name="ui-tars-v1",
        description="UI-TARS v1 (Qwen2-VL architecture), grounding question, 0-1000 relative coordinates",
        models=("bytedance-research/UI-TARS-7B-DPO", "bytedance-research/UI-TARS-2B-SFT",
                "bytedance-research/UI-TARS-7B-SFT", "bytedance-research/UI-TARS-72B-DPO"),
        space="0-1000",
        user="Output only the coordinate of one point in your response. What element matches the following task: "
        "$instruction",
        answer="($x,$y)",
    ),
    Family(
        name="gta1",
        description="GTA1 (Salesforce, Qwen2.5-VL based), element-locator prompt, absolute pixels of the resized image",
        models=("Salesforce/GTA1-7B", "Salesforce/GTA1-32B", "Salesforce/GTA1-72B"),
        space="resized-abs",
        system=(
            "You are an expert UI element locator. Given a GUI image and a user's element description, provide the "
            "coordinates of the specified element as a single (x,y) point. The image resolution is height $height "
            "and width $width. For elements with area, return the center point.\n\n"
            "Output the coordinate pair exactly:\n(x,y)"
        ),
        user="$instruction",
        answer="($x,$y)",
        max_pixels=4096 * 2160,
        pin_pixels=True,
    ),
    Family(
        name="ui-venus-ground",
        description="UI-Venus-Ground (Qwen2.5-VL based), answers a box, absolute pixels of the resized image",
        models=("inclusionAI/UI-Venus-Ground-7B", "inclusionAI/UI-Venus-Ground-72B"),
        space="resized-abs",
        user=_VENUS_BOX_PROMPT,
        answer=_BOX_ANSWER,
        min_pixels=2_000_000,
        max_pixels=4_800_000,
        pin_pixels=True,
    ),
    Family(
        name="ui-venus-1.5",
        description="UI-Venus-1.5, answers the centre point, 0-1000 relative coordinates",
        models=("inclusionAI/UI-Venus-1.5-8B",),
        space="0-1000",
        user="Output the center point of the position corresponding to the following instruction: $instruction. "
        "The output should just be the coordinates of a point, in the format [x,y].",
        answer="[$x,$y]",
        factor=QWEN3_FACTOR,
        min_pixels=QWEN3_MIN_PIXELS,
        max_pixels=QWEN3_MAX_PIXELS,
    ),
    Family(
        name="holo1.5",
        description="Holo1.5 (H company, Qwen2.5-VL based), Click(x, y), absolute pixels of the resized image",
        models=("Hcompany/Holo1.5-7B", "Hcompany/Holo1.5-3B", "Hcompany/Holo1.5-72B"),
        space="resized-abs",
        user=(
            "Localize an element on the GUI image according to the provided target and output a click position.\n"
            " * You must output a valid click position as 'Click(x, y)' with x the number of pixels from the left "
            "edge and y the number of pixels from the top edge of the image.\n"
            " * The image is $width pixels wide and $height pixels high.\n"
            "Your target is: $instruction"
        ),
        answer="Click($x, $y)",
        max_pixels=2560 * 1440,
        pin_pixels=True,
    ),
    Family(
        name="infigui-g1",
        description="InfiGUI-G1 (Qwen2.5-VL based), JSON point_2d, absolute pixels of the resized image",
        models=("InfiX-ai/InfiGUI-G1-7B", "InfiX-ai/InfiGUI-G1-3B"),
        space="resized-abs",
        user=(
            "The screen's resolution is ${width}x${height}.\n"
            'Locate the UI element(s) for "$instruction", output the coordinates using JSON format: '
            '[{"point_2d": [x, y]}, ...]'
        ),
        answer='[{"point_2d": [$x, $y]}]',
    ),
    Family(
        name="gui-g2",
        description="GUI-G2 (Qwen2.5-VL based), answers a box, absolute pixels of the resized image",
        models=("inclusionAI/GUI-G2-7B", "inclusionAI/GUI-G2-3B"),
        space="resized-abs",
        user=_VENUS_BOX_PROMPT,
        answer=_BOX_ANSWER,
    ),
    Family(
        name="os-atlas",
        description="OS-Atlas-Base (Qwen2-VL based), box between box tokens, 0-1000 relative coordinates",
        models=("OS-Copilot/OS-Atlas-Base-7B",),
        space="0-1000",
        user='In this UI screenshot, what is the position of the element corresponding to the command '
        '"$instruction" (with bbox)?',
        answer="<|box_start|>($x,$y),($x,$y)<|box_end|>",
    ),
    Family(
        name="uground",
        description="UGround-V1 (Qwen2-VL based), (x, y), 0-1000 relative coordinates",
        models=("osunlp/UGround-V1-7B", "osunlp/UGround-V1-2B", "osunlp/UGround-V1-72B"),
        space="0-1000",
        user=(
            "Your task is to help the user identify the precise coordinates (x, y) of a specific area/element/object "
            "on the screen based on a description.\n\n"
            "- Your response should aim to point to the center or a representative point within the described "
            "area/element/object as accurately as possible.\n"
            "- If the description is unclear or ambiguous, infer the most relevant area or element based on its "
            "likely context or purpose.\n"
            "- Your answer should be a single string (x, y) corresponding to the point of the interest.\n\n"
            "Description: $instruction\n\nAnswer:"
        ),
        answer="($x, $y)",
    ),
    Family(
        name="showui",
        description="ShowUI (Qwen2-VL based), [x, y], 0-1 relative coordinates",
        models=("showlab/ShowUI-2B",),
        space="0-1",
        preamble=(
            "Based on the screenshot of the page, I give a text description and you give its corresponding "
            "location. The coordinate represents a clickable location [x, y] for an element, which is a relative "
            "coordinate on the screenshot, scaled from 0 to 1."
        ),
        user="$instruction",
        answer="[$x, $y]",
        min_pixels=256 * 28 * 28,
        max_pixels=1344 * 28 * 28,
        pin_pixels=True,
    ),
)

FAMILIES: dict[str, Family] = {family.name: family for family in _FAMILY_LIST}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model family {name!r} (one of {', '.join(sorted(FAMILIES))})"
        ) from None
