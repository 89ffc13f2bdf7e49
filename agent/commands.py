"""Parsing one step typed by a person: "click Save", "type 'hello' into the search box", "press ctrl+s"...

Anything without a known verb is a click on what it describes ("open the File menu" clicks the File menu), so a
plain grounding instruction works as a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grounding.errors import InstructionError
from grounding.inputs import check_instruction

# Names pyautogui knows besides single characters, and the spellings people type for them.
NAMED_KEYS = frozenset(
    "alt altleft altright backspace capslock command ctrl ctrlleft ctrlright delete down end enter esc fn home "
    "insert left menu numlock option pagedown pageup pause printscreen right scrolllock shift shiftleft shiftright "
    "space tab up volumedown volumemute volumeup win winleft winright".split()
    + [f"f{n}" for n in range(1, 25)]
)
KEY_ALIASES = {
    "control": "ctrl", "cmd": "command", "super": "win", "meta": "win", "windows": "win", "return": "enter",
    "escape": "esc", "del": "delete", "ins": "insert", "pgup": "pageup", "pgdn": "pagedown", "spacebar": "space",
    "bksp": "backspace", "opt": "option",
}
DEFAULT_SCROLL = 3

# The closing quote must match the opening one, so "type 'don't' into X" keeps its apostrophe.
_QUOTED = r"""(?:(?P<q>["'])(?P<text>.*?)(?P=q)|“(?P<curly>.*?)”)"""
_PATTERNS = (
    ("double_click", re.compile(r"^double[- ]?click(?:\s+on)?\s+(?P<target>.+)$", re.I)),
    ("right_click", re.compile(r"^right[- ]?click(?:\s+on)?\s+(?P<target>.+)$", re.I)),
    ("click", re.compile(r"^(?:left[- ]?)?click(?:\s+on)?\s+(?P<target>.+)$", re.I)),
    ("hover", re.compile(
        r"^(?:hover(?:\s+over|\s+on)?|move\s+(?:the\s+)?(?:mouse|pointer)\s+(?:to|over))\s+(?P<target>.+)$", re.I
    )),
    ("type", re.compile(rf"^(?:type|enter|write)\s+{_QUOTED}(?:\s+(?:into|in|on)\s+(?P<target>.+))?$", re.I)),
    ("press", re.compile(r"^(?:press|hit|key)\s+(?P<keys>\S.*)$", re.I)),
    ("scroll", re.compile(
        r"^scroll\s+(?P<direction>up|down)(?:\s+(?P<amount>\d+))?(?:\s+(?:in|on|over|inside)\s+(?P<target>.+))?$", re.I
    )),
    ("drag", re.compile(r"^drag\s+(?P<target>.+?)\s+(?:to|onto|into|over)\s+(?P<destination>.+)$", re.I)),
)


@dataclass(frozen=True)
class Command:
    """One parsed step. `target`/`destination` are grounding instructions; the rest says what to do there."""

    action: str  # click, double_click, right_click, hover, type, press, scroll, drag
    target: str | None = None
    destination: str | None = None  # drag
    text: str = ""  # type
    keys: tuple[str, ...] = ()  # press
    amount: int = 0  # scroll: wheel clicks, positive up

    def describe(self) -> str:
        verb = self.action.replace("_", "-")
        if self.action == "type":
            return f"type {self.text!r}" + (f" into {self.target!r}" if self.target else "")
        if self.action == "press":
            return f"press {'+'.join(self.keys)}"
        if self.action == "scroll":
            where = f" in {self.target!r}" if self.target else ""
            return f"scroll {'up' if self.amount > 0 else 'down'} {abs(self.amount)}{where}"
        if self.action == "drag":
            return f"drag {self.target!r} to {self.destination!r}"
        return f"{verb} {self.target!r}"


def parse(line: str) -> Command:
    """The command a line asks for; InstructionError when a known verb is used wrongly."""
    check_instruction(line)
    text = line.strip()  # not the normalised form: typed text keeps its spacing
    for action, pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        groups = {k: (v.strip() if isinstance(v, str) else v) for k, v in match.groupdict().items()}
        if action == "type":
            typed = match.group("text") if match.group("q") else match.group("curly")
            return Command("type", target=groups["target"] or None, text=typed)
        if action == "press":
            return Command("press", keys=parse_keys(groups["keys"]))
        if action == "scroll":
            clicks = int(groups["amount"] or DEFAULT_SCROLL)
            if clicks == 0:
                raise InstructionError("scroll by 0 does nothing")
            sign = 1 if groups["direction"].lower() == "up" else -1
            return Command("scroll", target=groups["target"] or None, amount=sign * clicks)
        if action == "drag":
            return Command("drag", target=groups["target"], destination=groups["destination"])
        return Command(action, target=groups["target"])
    verb = text.split()[0].lower()
    if verb in ("type", "enter", "write"):
        raise InstructionError(f"put the text to type in quotes: type 'hello' into the search box (got {text!r})")
    if verb == "scroll":
        raise InstructionError(f"say which way: scroll up|down [N] [in TARGET] (got {text!r})")
    if verb == "drag":
        raise InstructionError(f"say where to: drag SOURCE to DESTINATION (got {text!r})")
    return Command("click", target=text)


def parse_keys(spec: str) -> tuple[str, ...]:
    """'Ctrl+Shift+T' -> ('ctrl', 'shift', 't'); one key or a chord joined by '+'."""
    parts = [part.strip() for part in spec.split("+")] if spec.strip() != "+" else ["+"]
    keys = []
    for part in parts:
        if not part:
            raise InstructionError(f"empty key in {spec!r} (write chords as ctrl+s)")
        key = part if len(part) == 1 else KEY_ALIASES.get(part.lower(), part.lower())
        if len(key) > 1 and key not in NAMED_KEYS:
            raise InstructionError(
                f"unknown key {part!r} in {spec!r} (keys are single characters or names like ctrl, enter, f5)"
            )
        keys.append(key.lower() if len(key) == 1 and len(parts) > 1 else key)
    return tuple(keys)
