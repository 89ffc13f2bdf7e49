"""The agentic tool loop: a tool-calling model may crop, zoom and run Python on the screenshot before it answers.

The model sees the screenshot as its family's processor would resize it, with the tools `crop`, `zoom` (from
`tools/`) and `python` (the sandbox in `tools.sandbox`, with the screenshot as `image`). Tool arguments and the final
answer are all in the family's coordinates of that first screenshot; crops are cut from the caller's full-resolution
image, so zooming shows detail the resized screenshot lost. Each tool result (text, and its images in a user message,
since tool messages carry text only) goes back into the conversation until the model answers without a tool call
or the step budget ends (the last call offers no tools). Every call and tool run is a `TraceStep`.

The python tool is offered only where its sandbox isolates the code (bubblewrap) or the user opted in with
`allow_unisolated_python`; otherwise the model gets crop and zoom, and a `PythonToolOff` warning says why.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from tools import IsolationUnavailable, isolation, run_python, zoom

from .chat import data_url, usage, with_image
from .geometry import Box, Transform
from .types import Prediction, Status, TraceStep

if TYPE_CHECKING:  # the loop reads a family's facts from the backend it is handed; it imports no backend
    from .vlm.families import Family
    from .vlm.spaces import Space

MAX_VIEW_PIXELS = 2560 * 1440  # largest tool image sent back, whatever the family would accept
PYTHON_OUTPUT_CHARS = 4000  # of the sandbox's stdout, what goes back into the conversation

_BOX_PARAMETERS = {
    "x1": {"type": "number"}, "y1": {"type": "number"}, "x2": {"type": "number"}, "y2": {"type": "number"},
}
TOOLS = [
    {"type": "function", "function": {
        "name": "crop",
        "description": "Show the region [x1, y1, x2, y2] of the screenshot at the screenshot's full resolution.",
        "parameters": {"type": "object", "properties": _BOX_PARAMETERS, "required": list(_BOX_PARAMETERS)},
    }},
    {"type": "function", "function": {
        "name": "zoom",
        "description": "Show the region [x1, y1, x2, y2] of the screenshot magnified `factor` times (default 2).",
        "parameters": {"type": "object", "properties": {**_BOX_PARAMETERS, "factor": {"type": "number"}},
                       "required": list(_BOX_PARAMETERS)},
    }},
    {"type": "function", "function": {
        "name": "python",
        "description": "Run Python code in a fresh scratch folder. The screenshot is "
        "the PIL image `image`, at the size you see it. Printed output comes back; so do images you call .show() "
        "on, leave as the last expression, or save as files.",
        "parameters": {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
    }},
]


class PythonToolOff(UserWarning):
    """The tool loop leaves out the python tool: nothing isolates model-written code here and nobody opted in."""


def python_tool_off(allow_unisolated_python: bool) -> str:
    """Why the python tool is not offered, in one line; "" when it is."""
    found = isolation()
    if found.isolated or allow_unisolated_python:
        return ""
    return (f"the python tool is off: nothing isolates model-written code here ({found.reason}); "
            "--allow-unisolated-python (allow_unisolated_python=True in Python) offers it with your network and files")


def warn_if_python_off(allow_unisolated_python: bool) -> None:
    if reason := python_tool_off(allow_unisolated_python):
        warnings.warn(reason, PythonToolOff, stacklevel=2)


def offered_tools(allow_unisolated_python: bool) -> list[dict]:
    if python_tool_off(allow_unisolated_python):
        return [tool for tool in TOOLS if tool["function"]["name"] != "python"]
    return TOOLS


class ToolBackend(Protocol):
    """What the loop needs from a chat backend (the `openai` grounder is one)."""

    family: Family
    max_steps: int
    python_timeout_s: float
    allow_unisolated_python: bool

    @property
    def pixel_budget(self) -> int: ...

    def model_size(self, size: tuple[int, int]) -> tuple[int, int]: ...

    def chat(
        self, messages: list[dict], *, sent_size: tuple[int, int] | None = None, **extra: Any
    ) -> tuple[dict, dict]: ...

    def read_answer(
        self, text: str, model_size: tuple[int, int], image_size: tuple[int, int], body: dict
    ) -> Prediction: ...


class ToolError(Exception):
    """A tool call we cannot run (bad arguments): its message goes back to the model, and the loop goes on."""


@dataclass(frozen=True)
class ToolResult:
    text: str
    images: tuple[Image.Image, ...]
    step: TraceStep


def guide(space: Space, model_size: tuple[int, int], tools: list[dict]) -> str:
    names = [tool["function"]["name"] for tool in tools]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"You may call the tools {listed} to look closer before you answer. Tool arguments and your "
        f"final answer are always in {space.describe(model_size)} of this full screenshot, whatever image a tool "
        "showed last. When you are sure, answer without a tool call, in the answer format asked for."
    )


def locate_with_tools(backend: ToolBackend, image: Image.Image, instruction: str) -> Prediction:
    """Runs the loop for one instruction on one (RGB) image; a Prediction in the image's pixels."""
    family = backend.family
    model_size = backend.model_size(image.size)
    seen = image if model_size == image.size else image.resize(model_size, Image.Resampling.BICUBIC)
    # The family's numbers -> model pixels -> the caller's pixels.
    to_image = family.space.to_model(model_size).then(Transform.between_sizes(model_size, image.size))
    messages = with_image(family.messages(instruction, *model_size), data_url(seen))
    tools = offered_tools(backend.allow_unisolated_python)
    messages[-1]["content"].append({"type": "text", "text": guide(family.space, model_size, tools)})
    view_pixels = min(MAX_VIEW_PIXELS, backend.pixel_budget)  # --max-pixels bounds what the tools show too

    trace: list[TraceStep] = []
    tokens = 0
    for step in range(backend.max_steps):
        last = step == backend.max_steps - 1
        if last:
            messages.append({"role": "user", "content": "No more tool calls are possible: answer now."})
        offer = {} if last else {"tools": tools, "tool_choice": "auto"}
        # Only the first request holds the screenshot alone, so only its token count can be checked.
        message, body = backend.chat(messages, sent_size=model_size if step == 0 else None, **offer)
        tokens += int(usage(body).get("total_tokens") or 0)
        text = str(message.get("content") or "")
        calls = message.get("tool_calls")
        calls = [call for call in calls if isinstance(call, dict)] if isinstance(calls, list) else []
        if not calls:
            prediction = backend.read_answer(text, model_size, image.size, body)
            trace.append(TraceStep("answer", None, raw=text, point=prediction.point, score=prediction.score,
                                   note=prediction.status.value))
            return prediction.with_(trace=tuple(trace), calls=step + 1, tokens=tokens)
        trace.append(TraceStep("call", None, raw=text, note=", ".join(_call_name(c) for c in calls)))
        if last:
            break
        messages.append({"role": "assistant", "content": text or None, "tool_calls": calls})
        shown = []
        for call in calls:
            result = _run_tool(call, image, seen, to_image, backend, view_pixels, tools)
            trace.append(result.step)
            messages.append({"role": "tool", "tool_call_id": str(call.get("id", "")), "content": result.text})
            shown.extend(result.images)
        if shown:
            parts: list[dict[str, Any]] = [{"type": "text", "text": "Images from the tool call(s) above:"}]
            parts += [{"type": "image_url", "image_url": {"url": data_url(picture)}} for picture in shown]
            messages.append({"role": "user", "content": parts})
    return Prediction(point=None, status=Status.WRONG_FORMAT, raw="step budget spent without an answer",
                      trace=tuple(trace), calls=backend.max_steps, tokens=tokens)


def _call_name(call: dict) -> str:
    function = call.get("function")
    return str(function.get("name")) if isinstance(function, dict) else "?"


def _run_tool(
    call: dict, image: Image.Image, seen: Image.Image, to_image: Transform, backend: ToolBackend, max_pixels: int,
    offered: list[dict],
) -> ToolResult:
    name = _call_name(call)
    raw = ""
    try:
        function = call.get("function")
        if not isinstance(function, dict):
            raise ToolError("a tool call needs a function object")
        raw = str(function.get("arguments") or "{}")
        arguments = json.loads(raw)
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
        names = [tool["function"]["name"] for tool in offered]
        if name not in names:  # also a model calling the python tool it was not offered
            raise ToolError(f"there is no tool {name!r} here; the tools are {', '.join(names)}")
        if name == "python":
            return _python(arguments, seen, backend, raw)
        return _view(name, arguments, image, seen.width / image.width, to_image, max_pixels, raw)
    except (ToolError, ValueError, TypeError, KeyError) as exc:  # the model's mistake: tell it, go on
        message = str(exc) if isinstance(exc, ToolError) else f"bad arguments: {exc}"
        return ToolResult(f"error: {message}", (), TraceStep("tool", None, raw=raw, note=f"{name}: error: {message}"))


def _number(arguments: dict, key: str, default: float | None = None) -> float:
    value = arguments.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ToolError(f"{key} must be a number, got {value!r}")
    return float(value)


def _view(
    name: str, arguments: dict, image, seen_per_pixel: float, to_image: Transform, max_pixels: int, raw: str
) -> ToolResult:
    asked = Box.from_corners(*(_number(arguments, key) for key in ("x1", "y1", "x2", "y2")))
    region = to_image.apply_box(asked).clip(*image.size)
    if region.width < 1 or region.height < 1:
        raise ToolError(f"the region {asked.to_list()} has no area inside the screenshot")
    # `factor` is relative to the screenshot the model saw, which has seen_per_pixel of its pixels per image pixel.
    factor = _number(arguments, "factor", 2.0) if name == "zoom" else None
    if factor is not None and not 0 < factor <= 16:
        raise ToolError(f"factor must lie in (0, 16], got {factor}")
    scale = factor * seen_per_pixel if factor is not None else 1.0
    limit = max_pixels / (region.width * region.height)
    scale = min(scale, math.sqrt(limit))
    view = zoom(image, region, scale=scale)
    width, height = view.image.size
    text = (f"{name} shows the region {asked.to_list()} of the screenshot as a {width}x{height} image "
            f"({view.scale / seen_per_pixel:.2f}x the screenshot you see). Keep answering in the coordinates "
            "of the full screenshot.")
    step = TraceStep("tool", view.box, scale=view.scale, raw=raw, note=f"{name}: {width}x{height}")
    return ToolResult(text, (view.image,), step)


def _python(arguments: dict, seen: Image.Image, backend: ToolBackend, raw: str) -> ToolResult:
    code = arguments.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ToolError("code must be a non-empty string")
    try:
        result = run_python(code, image=seen, timeout_s=backend.python_timeout_s,
                            allow_unisolated=backend.allow_unisolated_python)
    except IsolationUnavailable as exc:  # isolation went away after the tool was offered
        raise ToolError(str(exc)) from None
    output = result.stdout[:PYTHON_OUTPUT_CHARS]
    text = ("ok" if result.ok else f"error: {result.error}") + (f"\noutput:\n{output}" if output else "")
    if result.images:
        text += f"\n{len(result.images)} image(s) follow."
    note = "python: ok" if result.ok else f"python: {result.error}"[:200]
    return ToolResult(text, result.images, TraceStep("tool", None, raw=code, note=note))
