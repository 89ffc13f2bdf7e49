"""Model families: how each open grounding model is prompted, resized, read, and in which coordinate space it answers.

Pure Python on purpose (no torch, no transformers): the transformers backend, the OpenAI-compatible client and
`ground serve` all share these facts, so a checkpoint run locally and the same checkpoint behind an HTTP server get
the same prompt and the same image size. Each family follows its authors' published inference code; the sources and
what they produce for sample inputs are in `tests/grounding/vlm/reference.json`, which the conformance tests check.

Pixel spaces involved, for one call:
  image  -- the caller's image (a screenshot, or a crop the zoom loop handed in), W x H
  model  -- the same picture after the family's resize (`resize.py`), W' x H' (what the model sees)
  space  -- the numbers the model writes (`spaces.py`): the model's pixels, 0-1000 or 0-1
Every step between them is a `grounding.geometry.Transform`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from ..errors import UnknownModelError
from ..geometry import Box, Point, Transform
from ..types import Status
from . import prompts
from .answers import Answer, final_part, parse_answer
from .resize import AreaCap, Resize, SmartResize
from .spaces import PER_MILLE, RESIZED_ABS, UNIT, Space

# The checkpoints' image processors. Qwen2/2.5-VL: patch 14 x merge 2, "the default range for the number of visual
# tokens per image in the model is 4-16384" (QwenLM/Qwen3-VL at 5f1161d, README.md, the Qwen2.5-VL README).
QWEN2_PROCESSOR = SmartResize(28, 4 * 28 * 28, 16384 * 28 * 28)
# Qwen3-VL: patch 16 x merge 2; its bounds as its preprocessor_config.json gives them (not readable here).
QWEN3_PROCESSOR = SmartResize(32, 64 * 32 * 32, 16384 * 32 * 32)
# qwen_vl_utils' `fetch_image` with its defaults (patch 14): qwen-vl-utils 0.0.14, vision_process.py.
QWEN_VL_UTILS = SmartResize(28, 4 * 28 * 28, 16384 * 28 * 28)


@dataclass(frozen=True)
class Reading:
    """A family's answer text read into the caller's pixels: ok with a point (and a box), not_found, or wrong_format."""

    status: Status
    point: Point | None = None
    box: Box | None = None


@dataclass(frozen=True)
class Family:
    """One model family's conventions. A preset picks a family and a model id; nothing else differs.

    Prompt templates use `$instruction`, `$width`, `$height` (the size the model sees). `answer` is a template of how
    the family writes a point (`$x`, `$y` in its space), used to answer in its format. `answer_prefix` is text put at
    the start of the model's turn to force the answer's shape (empty: none). `not_found` is a regular expression for
    the whole answer a family writes when the target is not on the screen (None: it has no such answer).
    """

    name: str
    description: str
    models: tuple[str, ...]  # published hub ids; the first is the default
    space: Space
    user: str
    answer: str
    system: str | None = None
    preamble: str | None = None  # user text placed before the image (ShowUI puts its instructions there)
    answer_prefix: str = ""
    resize: Resize = Resize((QWEN2_PROCESSOR,))
    not_found: str | None = None
    strip_final_period: bool = False  # the reference code drops one trailing "." from the instruction
    max_new_tokens: int = 256  # the answer's token budget (families that reason first need more)

    @property
    def default_model(self) -> str:
        return self.models[0]

    def messages(self, instruction: str, width: int, height: int) -> list[dict]:
        """OpenAI-style chat messages; the screenshot is the content part {"type": "image"}."""
        if self.strip_final_period:
            instruction = instruction.removesuffix(".")
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

    def says_not_found(self, text: str) -> bool:
        return bool(self.not_found) and re.fullmatch(self.not_found, final_part(text).strip()) is not None

    def model_size(
        self, width: int, height: int, *, min_pixels: int | None = None, max_pixels: int | None = None
    ) -> tuple[int, int]:
        """(W', H'): the size a W x H image has once resized for this family (the caller's budget if given)."""
        return self.resize.bounded(min_pixels, max_pixels).size(width, height)

    def read(self, text: str, model_size: tuple[int, int], image_size: tuple[int, int]) -> Reading:
        """The answer text in pixels of the caller's image. An answer outside the family's space (with 5% to spare)
        is a misread, not a click on the screen's edge: wrong_format, on every path alike."""
        if self.says_not_found(text):
            return Reading(Status.NOT_FOUND)
        answer = self.parse(text)
        if answer is None or not self.space.contains(answer.point, model_size):
            return Reading(Status.WRONG_FORMAT)
        point, box = model_to_image(answer, self, model_size, image_size)
        return Reading(Status.OK, point, box)

    def format_answer(self, point: Point, model_width: int, model_height: int) -> str:
        """How this family would write `point` (in pixels of the W' x H' image it saw): the inverse of `parse`."""
        x, y = self.space.to_model((model_width, model_height)).inverse().apply(point)
        return Template(self.answer).substitute(x=self.space.write(x), y=self.space.write(y))


def _family(family: Family | str) -> Family:
    return get_family(family) if isinstance(family, str) else family


def _to_image(family: Family, model_size: tuple[int, int], image_size: tuple[int, int]) -> Transform:
    return family.space.to_model(model_size).then(Transform.between_sizes(model_size, image_size))


def model_to_image(
    answer: Answer, family: Family | str, model_size: tuple[int, int], image_size: tuple[int, int]
) -> tuple[Point, Box | None]:
    """An answer in the family's space as (point, box) in pixels of the caller's W x H image.

    model_size is (W', H') the model saw, image_size (W, H) the image that was resized to it. The point is kept
    inside the image (an answer a little past the edge means the edge).
    """
    to_image = _to_image(_family(family), model_size, image_size)
    point = Box(0, 0, *image_size).clamp_point(to_image.apply(answer.point))
    box = to_image.apply_box(answer.box).clip(*image_size) if answer.box else None
    return point, box


def image_to_model(
    point: Point, family: Family | str, model_size: tuple[int, int], image_size: tuple[int, int]
) -> Point:
    """A point in the caller's image pixels as the numbers the family would write (the inverse of model_to_image)."""
    return _to_image(_family(family), model_size, image_size).inverse().apply(point)


# --------------------------------------------------------------------------------------------------- the families

_LEFT_CLICK_ANSWER = prompts.LEFT_CLICK_PREFIX + "$x, $y]}}\n</tool_call>"
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
        space=RESIZED_ABS,
        system=prompts.QWEN25_COMPUTER_USE,
        user="$instruction",
        answer_prefix=prompts.LEFT_CLICK_PREFIX,
        answer=_LEFT_CLICK_ANSWER,
    ),
    Family(
        name="qwen3-vl",
        description="Qwen3-VL instruct models, computer-use tool call, 0-1000 relative coordinates",
        models=("Qwen/Qwen3-VL-8B-Instruct", "Qwen/Qwen3-VL-2B-Instruct", "Qwen/Qwen3-VL-4B-Instruct",
                "Qwen/Qwen3-VL-32B-Instruct", "Qwen/Qwen3-VL-30B-A3B-Instruct"),
        space=PER_MILLE,
        system=prompts.QWEN3_COMPUTER_USE,
        user="$instruction",
        answer_prefix=prompts.LEFT_CLICK_PREFIX,
        answer=_LEFT_CLICK_ANSWER,
        resize=Resize((QWEN3_PROCESSOR,)),
    ),
    Family(
        name="ui-tars",
        description="UI-TARS-1.5 (Qwen2.5-VL architecture), grounding template, absolute pixels of the resized image",
        models=("ByteDance-Seed/UI-TARS-1.5-7B",),
        space=RESIZED_ABS,
        # bytedance/UI-TARS codes/ui_tars/prompt.py, GROUNDING_DOUBAO, its stray quote after </point> included.
        user=(
            "You are a GUI agent. You are given a task and your action history, with screenshots. You need to "
            "perform the next action to complete the task. \n\n## Output Format\n\nAction: ...\n\n\n"
            "## Action Space\nclick(point='<point>x1 y1</point>'')\n\n## User Instruction\n$instruction"
        ),
        answer="Action: click(point='<point>$x $y</point>')",
        # bytedance/UI-TARS README_coordinates.md: MIN_PIXELS 100*28*28, MAX_PIXELS 16384*28*28.
        resize=Resize((SmartResize(28, 100 * 28 * 28, 16384 * 28 * 28),)),
    ),
    Family(
        name="ui-tars-v1",
        description="UI-TARS v1 (Qwen2-VL architecture), grounding question, 0-1000 relative coordinates",
        models=("bytedance-research/UI-TARS-7B-DPO", "bytedance-research/UI-TARS-2B-SFT",
                "bytedance-research/UI-TARS-7B-SFT", "bytedance-research/UI-TARS-72B-DPO"),
        space=PER_MILLE,
        user="Output only the coordinate of one point in your response. What element matches the following task: "
        "$instruction",
        answer="($x,$y)",
    ),
    Family(
        name="gta1",
        description="GTA1 2507 grounders (Salesforce, Qwen2.5-VL), element-locator prompt, absolute pixels of the "
        "resized image",
        models=("Salesforce/GTA1-7B-2507",),
        space=RESIZED_ABS,
        system=(
            "You are an expert UI element locator. Given a GUI image and a user's element description, provide the "
            "coordinates of the specified element as a single (x,y) point. The image resolution is height $height "
            "and width $width. For elements with area, return the center point.\n\n"
            "Output the coordinate pair exactly:\n(x,y)"
        ),
        user="$instruction",
        answer="($x,$y)",
        resize=Resize((SmartResize(28, 3136, 4096 * 2160),)),
    ),
    Family(
        name="ui-venus-ground",
        description="UI-Venus-Ground-7B (Qwen2.5-VL based), answers a box, absolute pixels of the resized image",
        models=("inclusionAI/UI-Venus-Ground-7B",),
        space=RESIZED_ABS,
        user=_VENUS_BOX_PROMPT,
        answer=_BOX_ANSWER,
        resize=Resize((SmartResize(28, 2_000_000, 4_800_000), QWEN2_PROCESSOR)),
    ),
    Family(
        name="ui-venus-ground-72b",
        description="UI-Venus-Ground-72B (Qwen2.5-VL based), its own grounding prompt and a larger image, answers a "
        "box in absolute pixels of the resized image",
        models=("inclusionAI/UI-Venus-Ground-72B",),
        space=RESIZED_ABS,
        user='Output the bounding box in the image corresponding to the instruction "$instruction" with grounding. '
        "The output should be only [x1,y1,x2,y2].",
        answer=_BOX_ANSWER,
        # qwen_vl_utils with its defaults, then smart_resize to 3,110,400-48,000,000 pixels, then the processor.
        resize=Resize((QWEN_VL_UTILS, SmartResize(28, 3_110_400, 48_000_000), QWEN2_PROCESSOR)),
    ),
    Family(
        name="ui-venus-1.5",
        description="UI-Venus-1.5 (Qwen3-VL based), answers the centre point, 0-1000 relative coordinates; [-1,-1] "
        "when the target is not there",
        models=("inclusionAI/UI-Venus-1.5-8B", "inclusionAI/UI-Venus-1.5-2B", "inclusionAI/UI-Venus-1.5-30B-A3B"),
        space=PER_MILLE,
        user="Output the center point of the position corresponding to the following instruction: \n$instruction. "
        "\n\nThe output should just be the coordinates of a point, in the format [x,y]. Additionally, if the task is "
        "infeasible (e.g., the task is not related to the image), the output should be [-1,-1].",
        answer="[$x,$y]",
        not_found=r"\[\s*-1\s*,\s*-1\s*\]",
        strip_final_period=True,
        # qwen_vl_utils' default (patch 14) first, as its evaluation calls it, then the Qwen3-VL processor.
        resize=Resize((QWEN_VL_UTILS, QWEN3_PROCESSOR)),
    ),
    Family(
        name="holo1.5",
        description="Holo1.5 (H company, Qwen2.5-VL based), JSON click action, absolute pixels of the resized image",
        models=("Hcompany/Holo1.5-7B", "Hcompany/Holo1.5-3B", "Hcompany/Holo1.5-72B"),
        space=RESIZED_ABS,
        user=(
            "Localize an element on the GUI image according to the provided target and output a click position.\n"
            f" * You must output a valid JSON following the format: {prompts.HOLO_CLICK_SCHEMA}\n"
            " Your target is:\n$instruction"
        ),
        answer='{"action": "click_absolute", "x": $x, "y": $y}',
        # The model card resizes with the checkpoint processor's bounds; 2560x1440 at most, as given in
        # likaixin2000/ScreenSpot-Pro-GUI-Grounding models/holo1_5.py (Holo1_5Parameters).
        resize=Resize((SmartResize(28, 4 * 28 * 28, 2560 * 1440),)),
    ),
    Family(
        name="infigui-g1",
        description="InfiGUI-G1 (Qwen2.5-VL based), reasons then answers JSON point_2d, absolute pixels of the "
        "resized image; [] when the target is not there",
        models=("InfiX-ai/InfiGUI-G1-7B", "InfiX-ai/InfiGUI-G1-3B"),
        space=RESIZED_ABS,
        # InfiXAI/InfiGUI-G1 eval/prompts.py (think mode, the evaluation's default).
        system="You FIRST think about the reasoning process as an internal monologue and then provide the final "
        "answer.\nThe reasoning process MUST BE enclosed within <think> </think> tags.",
        user=(
            "The screen's resolution is ${width}x${height}.\n"
            'Locate the UI element(s) for "$instruction", output the coordinates using JSON format: '
            '[{"point_2d": [x, y]}, ...]'
        ),
        answer='[{"point_2d": [$x, $y]}]',
        not_found=r"\[\s*\]",
        max_new_tokens=1024,
        # InfiXAI/InfiGUI-G1 eval/eval.py: capped at 5600 image tokens' worth of pixels, then qwen_vl_utils.
        resize=Resize((AreaCap(5600 * 28 * 28), QWEN_VL_UTILS, QWEN2_PROCESSOR)),
    ),
    Family(
        name="gui-g2",
        description="GUI-G2 (Qwen2.5-VL based), answers a box, absolute pixels of the resized image",
        models=("inclusionAI/GUI-G2-7B", "inclusionAI/GUI-G2-3B"),
        space=RESIZED_ABS,
        user=_VENUS_BOX_PROMPT,
        answer=_BOX_ANSWER,
    ),
    Family(
        name="os-atlas",
        description="OS-Atlas-Base (Qwen2-VL based), box between box tokens, 0-1000 relative coordinates",
        models=("OS-Copilot/OS-Atlas-Base-7B",),
        space=PER_MILLE,
        user='In this UI screenshot, what is the position of the element corresponding to the command '
        '"$instruction" (with bbox)?',
        answer="<|box_start|>($x,$y),($x,$y)<|box_end|>",
    ),
    Family(
        name="uground",
        description="UGround-V1 (Qwen2-VL based), (x, y), 0-1000 relative coordinates",
        models=("osunlp/UGround-V1-7B", "osunlp/UGround-V1-2B", "osunlp/UGround-V1-72B"),
        space=PER_MILLE,
        user=(
            "\nYour task is to help the user identify the precise coordinates (x, y) of a specific area/element/object "
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
        space=UNIT,
        preamble=(
            "Based on the screenshot of the page, I give a text description and you give its corresponding "
            "location. The coordinate represents a clickable location [x, y] for an element, which is a relative "
            "coordinate on the screenshot, scaled from 0 to 1."
        ),
        user="$instruction",
        answer="[$x, $y]",
        resize=Resize((SmartResize(28, 256 * 28 * 28, 1344 * 28 * 28),)),
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
