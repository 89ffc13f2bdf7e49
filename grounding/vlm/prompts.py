"""The long prompt texts of the families, transcribed as their authors render them (the models were trained on them).

Each text names where it comes from; `tests/grounding/vlm/reference.py` holds what those sources produce for sample
inputs, and the conformance tests check the families against it.
"""

from __future__ import annotations

import json

# qwen-agent's function-calling template (`NousFnCallPrompt`), which the Qwen cookbooks use to put a tool in the
# system prompt: qwen_agent/llm/fncall_prompts/nous_fncall_prompt.py (PyPI qwen-agent 0.0.29 and 0.0.34).
_TOOLS_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call>"
)

_MOVE_TO = (
    "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to."
)
_COMMON_DESCRIPTION = (
    "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
    "* This is an interface to a desktop GUI. You do not have access to a terminal or applications menu. You must "
    "click on desktop icons to start applications.\n"
    "* Some applications may take time to start or process actions, so you may need to wait and take successive "
    "screenshots to see the results of your actions. E.g. if you click on Firefox and a window doesn't open, try "
    "wait and taking another screenshot.\n"
    "* The screen's resolution is {resolution}.\n"
    "* Whenever you intend to move the cursor to click on an element like an icon, you should consult a screenshot "
    "to determine the coordinates of the element before moving the cursor.\n"
    "* If you tried clicking on a program or link but it failed to load, even after waiting, try adjusting your "
    "cursor position so that the tip of the cursor visually falls on the element that you want to click.\n"
    "* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don't "
    "click boxes on their edges{edges}."
)
_STATUS = {
    "description": "The status of the task. Required only by `action=terminate`.",
    "type": "string",
    "enum": ["success", "failure"],
}


def _parameters(actions: dict[str, str], *, text_for: str, coordinate: str, scroll_for: str) -> dict:
    """The `computer_use` tool's parameter schema; the versions differ in actions and in which ones each serves."""
    return {
        "properties": {
            "action": {
                "description": "The action to perform. The available actions are:\n"
                + "\n".join(f"* `{name}`: {what}" for name, what in actions.items()),
                "enum": list(actions),
                "type": "string",
            },
            "keys": {"description": "Required only by `action=key`.", "type": "array"},
            "text": {"description": f"Required only by {text_for}.", "type": "string"},
            "coordinate": {"description": coordinate, "type": "array"},
            "pixels": {
                "description": "The amount of scrolling to perform. Positive values scroll up, negative values "
                f"scroll down. Required only by {scroll_for}.",
                "type": "number",
            },
            "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"},
            "status": _STATUS,
        },
        "required": ["action"],
        "type": "object",
    }


def _qwen25_computer_use(resolution: str) -> str:
    """Qwen2.5-VL's `computer_use` tool in its system prompt.

    Tool: QwenLM/Qwen3-VL (then Qwen2.5-VL) at d08310c, cookbooks/utils/agent_function_call.py. Rendering (the
    qwen-agent of that cookbook, with `name_for_human` and `args_format`, three newlines after the lead): as in
    likaixin2000/ScreenSpot-Pro-GUI-Grounding models/qwen2_5vl.py.
    """
    actions = {
        "key": "Performs key down presses on the arguments passed in order, then performs key releases in reverse "
        "order.",
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
    parameters = _parameters(
        actions,
        text_for="`action=type`",
        scroll_for="`action=scroll`",
        coordinate=f"{_MOVE_TO} Required only by `action=mouse_move` and `action=left_click_drag`.",
    )
    function = {
        "name_for_human": "computer_use",
        "name": "computer_use",
        "description": _COMMON_DESCRIPTION.format(resolution=resolution, edges=" unless asked"),
        "parameters": parameters,
        "args_format": "Format the arguments as a JSON object.",
    }
    tool = json.dumps({"type": "function", "function": function})
    return "You are a helpful assistant.\n\n\n" + _TOOLS_HEAD + tool + _TOOLS_TAIL


def _qwen3_computer_use(resolution: str) -> str:
    """Qwen3-VL's `computer_use` tool in its system prompt.

    Tool: QwenLM/Qwen3-VL at 0dcc180, cookbooks/utils/agent_function_call.py (more actions than Qwen2.5-VL's, each
    click at a coordinate). Rendering: qwen-agent 0.0.29+ (`BaseTool.function` without `name_for_human` and
    `args_format`; the lead and the tools joined by two newlines).
    """
    at = "at a specified (x, y) pixel coordinate on the screen."
    actions = {
        "key": "Performs key down presses on the arguments passed in order, then performs key releases in reverse "
        "order.",
        "type": "Type a string of text on the keyboard.",
        "mouse_move": "Move the cursor to a specified (x, y) pixel coordinate on the screen.",
        "left_click": f"Click the left mouse button {at}",
        "left_click_drag": "Click and drag the cursor to a specified (x, y) pixel coordinate on the screen.",
        "right_click": f"Click the right mouse button {at}",
        "middle_click": f"Click the middle mouse button {at}",
        "double_click": f"Double-click the left mouse button {at}",
        "triple_click": f"Triple-click the left mouse button {at[:-1]} (simulated as double-click since it's the "
        "closest action).",
        "scroll": "Performs a scroll of the mouse scroll wheel.",
        "hscroll": "Performs a horizontal scroll (mapped to regular scroll).",
        "wait": "Wait specified seconds for the change to happen.",
        "terminate": "Terminate the current task and report its completion status.",
        "answer": "Answer a question.",
    }
    parameters = _parameters(
        actions,
        text_for="`action=type` and `action=answer`",
        coordinate=_MOVE_TO,
        scroll_for="`action=scroll` and `action=hscroll`",
    )
    function = {
        "name": "computer_use",
        "description": _COMMON_DESCRIPTION.format(resolution=resolution, edges=""),
        "parameters": parameters,
    }
    tool = json.dumps({"type": "function", "function": function})
    return "You are a helpful assistant.\n\n" + _TOOLS_HEAD + tool + _TOOLS_TAIL


# The model sees the resized screenshot's size in the prompt (a template placeholder, filled per call).
QWEN25_COMPUTER_USE = _qwen25_computer_use("${width}x${height}")
# Qwen3-VL clicks on a virtual 1000x1000 screen, whatever the real size.
QWEN3_COMPUTER_USE = _qwen3_computer_use("1000x1000")

# The answer prefix both Qwen families' evaluations force, so the model can only write the click's coordinate:
# likaixin2000/ScreenSpot-Pro-GUI-Grounding models/qwen2_5vl.py (GUIDED_PROMPT).
LEFT_CLICK_PREFIX = '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": ['

# Holo1.5's click action schema, as pydantic 2 renders `ClickAbsoluteAction.model_json_schema()` into an f-string
# (a Python dict, single quotes): hcompai/surfer-h-cli src/surfer_h_cli/skills/localization_1_5.py.
HOLO_CLICK_SCHEMA = (
    "{'description': 'Click at absolute coordinates.', 'properties': {'action': {'const': 'click_absolute', "
    "'default': 'click_absolute', 'title': 'Action', 'type': 'string'}, 'x': {'description': 'The x coordinate, "
    "number of pixels from the left edge.', 'title': 'X', 'type': 'integer'}, 'y': {'description': 'The y "
    "coordinate, number of pixels from the top edge.', 'title': 'Y', 'type': 'integer'}}, 'required': ['x', 'y'], "
    "'title': 'ClickAbsoluteAction', 'type': 'object'}"
)
