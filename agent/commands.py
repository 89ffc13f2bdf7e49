"""Parsing one step typed by a person: "click Save", "type 'hello' into the search box", "press ctrl+s"...

Anything without a known verb is a click on what it describes ("open the File menu" clicks the File menu), so a
plain grounding instruction works as a command.
"""

from __future__ import annotations

from dataclasses import dataclass

from grounding.errors import InstructionError
from grounding.inputs import check_instruction

from .verbs import VERBS, describe_args

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

@dataclass(frozen=True)
class Command:
    """One parsed step. `target`/`destination` are grounding instructions; the rest says what to do there."""

    action: str  # a verb of verbs.VERBS: click, double_click, right_click, hover, type, press, scroll, drag
    target: str | None = None
    destination: str | None = None  # drag
    text: str = ""  # type
    keys: tuple[str, ...] = ()  # press
    amount: int = 0  # scroll: wheel clicks, positive up

    def describe(self) -> str:
        verb = VERBS[self.action]
        words = verb.spoken + describe_args(self.action, self.text, self.keys, self.amount)
        if self.target:
            words += f" {verb.preposition} {self.target!r}" if verb.preposition else f" {self.target!r}"
        if self.destination:
            words += f" to {self.destination!r}"
        return words


def parse(line: str) -> Command:
    """The command a line asks for; InstructionError when a known verb is used wrongly."""
    check_instruction(line)
    text = line.strip()  # not the normalised form: typed text keeps its spacing
    for verb in VERBS.values():
        match = verb.pattern.match(text)
        if match is None:
            continue
        groups = {k: (v.strip() if isinstance(v, str) else v) for k, v in match.groupdict().items()}
        command = {"target": groups.get("target") or None, "destination": groups.get("destination")}
        if "text" in verb.args:
            command["text"] = match.group("text") if match.group("q") else match.group("curly")
        if "keys" in verb.args:
            command["keys"] = parse_keys(groups["keys"])
        if "amount" in verb.args:
            clicks = int(groups["amount"] or DEFAULT_SCROLL)
            if clicks == 0:
                raise InstructionError("scroll by 0 does nothing")
            command["amount"] = clicks if groups["direction"].lower() == "up" else -clicks
        return Command(verb.name, **command)
    first = text.split()[0].lower()
    misused = next((verb for verb in VERBS.values() if first in verb.words), None)
    if misused is not None:
        raise InstructionError(f"{misused.usage} (got {text!r})")
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
