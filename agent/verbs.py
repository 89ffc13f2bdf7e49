"""The desktop action verbs, as one table: how a typed step names each, what it must be grounded on, what it
becomes on screen, and how the executor carries it out. commands.py (parsing), desktop.py (planning) and
executor.py (checks, log, pyautogui) all read this table; a new verb is one more row.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The closing quote must match the opening one, so "type 'don't' into X" keeps its apostrophe.
QUOTED = r"""(?:(?P<q>["'])(?P<text>.*?)(?P=q)|“(?P<curly>.*?)”)"""


@dataclass(frozen=True)
class Verb:
    name: str  # Command.action and Action.kind
    pattern: re.Pattern[str]  # a typed step asking for it; groups: target, destination, text, keys, direction, amount
    target: str  # the command's thing to ground: "required", "optional" or "none"
    point: str  # the screen action's point: "required", "optional" or "none"
    perform: Callable[[Any, Any, float], None]  # (pyautogui, action, settle_s), after the pointer moved to the point
    destination: bool = False  # a second thing to ground (drag's drop target)
    click_first: bool = False  # ground the target to click into it, then act without a point (type into X)
    args: tuple[str, ...] = ()  # what else the action carries: "text", "keys", "amount"
    preposition: str = ""  # how a description joins the target: "type 'x' into 'Search'", "scroll down 3 in 'List'"
    usage: str = ""  # said when a step starts with one of `words` but does not fit `pattern`
    words: tuple[str, ...] = ()

    @property
    def spoken(self) -> str:
        return self.name.replace("_", "-")


def _press_button(button: str) -> Callable[[Any, Any, float], None]:
    def perform(gui, action, settle_s: float) -> None:
        gui.mouseDown(button=button)
        gui.mouseUp(button=button)

    return perform


def _double_click(gui, action, settle_s: float) -> None:
    gui.click(clicks=2, interval=0.05)


def _hover(gui, action, settle_s: float) -> None:
    """Moving there (done before every pointer action) is all a hover is."""


def _drag(gui, action, settle_s: float) -> None:
    gui.mouseDown()
    gui.moveTo(*action.to.rounded(), duration=0.4)  # a gradual path: toolkits start a drag only after motion
    time.sleep(settle_s)
    gui.mouseUp()


def _scroll(gui, action, settle_s: float) -> None:
    gui.scroll(action.amount)


def _type(gui, action, settle_s: float) -> None:
    gui.write(action.text, interval=0.02)


def _press(gui, action, settle_s: float) -> None:
    from .executor import ActionError

    unknown = [key for key in action.keys if key not in gui.KEYBOARD_KEYS]
    if unknown:
        raise ActionError(f"unknown key(s) {', '.join(unknown)} (pyautogui.KEYBOARD_KEYS lists the names)")
    gui.hotkey(*action.keys)


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.I)


_ON = r"(?:\s+on)?\s+(?P<target>.+)"
# Order matters where patterns overlap: "double-click" and "right-click" before "click".
VERBS: dict[str, Verb] = {
    verb.name: verb
    for verb in (
        Verb("double_click", _pattern(rf"^double[- ]?click{_ON}$"), "required", "required", _double_click),
        Verb("right_click", _pattern(rf"^right[- ]?click{_ON}$"), "required", "required", _press_button("right")),
        Verb("click", _pattern(rf"^(?:left[- ]?)?click{_ON}$"), "required", "required", _press_button("left")),
        Verb(
            "hover",
            _pattern(r"^(?:hover(?:\s+over|\s+on)?|move\s+(?:the\s+)?(?:mouse|pointer)\s+(?:to|over))\s+(?P<target>.+)$"),
            "required", "required", _hover,
        ),
        Verb(
            "type", _pattern(rf"^(?:type|enter|write)\s+{QUOTED}(?:\s+(?:into|in|on)\s+(?P<target>.+))?$"),
            "optional", "none", _type, click_first=True, args=("text",), preposition="into",
            usage="put the text to type in quotes: type 'hello' into the search box", words=("type", "enter", "write"),
        ),
        Verb("press", _pattern(r"^(?:press|hit|key)\s+(?P<keys>\S.*)$"), "none", "none", _press, args=("keys",)),
        Verb(
            "scroll",
            _pattern(r"^scroll\s+(?P<direction>up|down)(?:\s+(?P<amount>\d+))?(?:\s+(?:in|on|over|inside)\s+(?P<target>.+))?$"),
            "optional", "optional", _scroll, args=("amount",), preposition="in",
            usage="say which way: scroll up|down [N] [in TARGET]", words=("scroll",),
        ),
        Verb(
            "drag", _pattern(r"^drag\s+(?P<target>.+?)\s+(?:to|onto|into|over)\s+(?P<destination>.+)$"),
            "required", "required", _drag, destination=True,
            usage="say where to: drag SOURCE to DESTINATION", words=("drag",),
        ),
    )
}


def verb(name: str) -> Verb:
    try:
        return VERBS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r} (known: {', '.join(VERBS)})") from None


def describe_args(name: str, text: str, keys: tuple[str, ...], amount: int) -> str:
    """The verb's own words of a description: " 'hello'", " ctrl+s", " down 3" ('' for the rest)."""
    args = verb(name).args
    if "text" in args:
        return f" {text!r}"
    if "keys" in args:
        return f" {'+'.join(keys)}"
    if "amount" in args:
        return f" {'up' if amount > 0 else 'down'} {abs(amount)}"
    return ""
