"""Mouse and keyboard actions on the live screen through pyautogui, with the safety rules and the action log.

Safety: a point outside every monitor is refused before anything moves; pyautogui's fail-safe (slam the pointer
into a screen corner to stop) stays on; a dry run touches nothing; every action, refused ones included, is appended
to a JSONL log.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grounding.errors import GroundingError
from grounding.geometry import Point

from .screen import DisplayError, Monitor, check_on_screen, require_display
from .verbs import describe_args, verb



class ActionError(GroundingError, RuntimeError):
    """An action could not be carried out (or was stopped by the fail-safe)."""


@dataclass(frozen=True)
class Action:
    """One input action in screen coordinates."""

    kind: str
    point: Point | None = None  # where (pointer actions; optional for scroll)
    to: Point | None = None  # drag destination
    text: str = ""  # type
    keys: tuple[str, ...] = ()  # press: one key or a chord, e.g. ("ctrl", "s")
    amount: int = 0  # scroll: wheel clicks, positive up

    def __post_init__(self) -> None:
        spec = verb(self.kind)
        if spec.point == "required" and self.point is None:
            raise ValueError(f"{self.kind} needs a point")
        if spec.destination and self.to is None:
            raise ValueError(f"{self.kind} needs a destination")
        object.__setattr__(self, "keys", tuple(self.keys))

    def describe(self) -> str:
        words = verb(self.kind).spoken + describe_args(self.kind, self.text, self.keys, self.amount)
        if self.to is not None:
            return f"{words} from {_xy(self.point)} to {_xy(self.to)}"
        return words + (f" at {_xy(self.point)}" if self.point else "")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.point is not None:
            data["point"] = list(self.point.rounded())
        if self.to is not None:
            data["to"] = list(self.to.rounded())
        for arg in verb(self.kind).args:
            value = getattr(self, arg)
            data[arg] = list(value) if isinstance(value, tuple) else value
        return data


def _xy(point: Point | None) -> str:
    return "(?)" if point is None else "({}, {})".format(*point.rounded())


@dataclass(frozen=True)
class Outcome:
    """What the executor did with an action: `result` is "done", "dry run" or "refused: ..." / "failed: ..."."""

    action: Action
    result: str
    performed: bool
    dry_run: bool
    time: float = field(default_factory=time.time)

    def describe(self) -> str:
        return f"{self.action.describe()}: {self.result}"


def default_log_path() -> Path:
    """Where actions are logged unless the caller says otherwise (the user's log dir, e.g. ~/.local/state/...)."""
    import platformdirs

    return platformdirs.user_log_path("screenground") / "actions.jsonl"


class Executor:
    """Carries out `Action`s. `settle_s` is the pause between moving onto a target and pressing: GTK (and others)
    ignore a press that arrives before the pointer has entered the widget."""

    def __init__(self, dry_run: bool = False, log_path: str | os.PathLike[str] | None = None, settle_s: float = 0.3):
        self.dry_run = dry_run
        self.log_path = Path(log_path) if log_path else None
        self.settle_s = settle_s

    def perform(
        self,
        action: Action,
        monitors: tuple[Monitor, ...] = (),
        instruction: str = "",
        screenshot_hash: str = "",
    ) -> Outcome:
        """Check, act (unless dry run), log. Refusals and failures are logged, then raised as GroundingErrors."""
        context = {"instruction": instruction, "screenshot": screenshot_hash}
        try:
            for point in (action.point, action.to):
                if point is not None:
                    check_on_screen(point, monitors)
            if action.kind == "type" and not action.text.isascii():
                raise ActionError("pyautogui can only type ASCII text; paste other text through the clipboard")
        except GroundingError as exc:
            self._log(Outcome(action, f"refused: {exc}", False, self.dry_run), context)
            raise
        if not self.dry_run:
            try:
                _run(_pyautogui(), action, self.settle_s)
            except GroundingError as exc:
                self._log(Outcome(action, f"failed: {exc}", False, False), context)
                raise
        outcome = Outcome(action, "dry run" if self.dry_run else "done", not self.dry_run, self.dry_run)
        self._log(outcome, context)
        return outcome

    def _log(self, outcome: Outcome, context: dict[str, str]) -> None:
        if self.log_path is None:
            return
        entry = {
            "time": round(outcome.time, 3),
            **context,
            "action": outcome.action.to_dict(),
            "result": outcome.result,
            "dry_run": outcome.dry_run,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def _pyautogui():
    """pyautogui, imported on first real action: importing it opens the display, so it must fail here, clearly."""
    if "pyautogui" not in sys.modules:
        require_display()
        _ensure_xauthority()
    try:
        # python-xlib prints a warning to stdout for a display without auth cookies (Xvfb); keep stdout ours.
        with contextlib.redirect_stdout(io.StringIO()):
            import pyautogui
    except Exception as exc:  # KeyError, Xlib connection/auth errors, missing tkinter on macOS...
        display = os.environ.get("DISPLAY", "")
        raise DisplayError(f"cannot drive the display {display!r}: {type(exc).__name__}: {exc}") from None
    pyautogui.FAILSAFE = True  # the corner escape hatch stays on, whatever anyone set
    return pyautogui


def _ensure_xauthority() -> None:
    """python-xlib refuses to connect when ~/.Xauthority is missing, even to a display without auth (Xvfb): an empty
    file means "no cookies", which is the truth in that case."""
    if not sys.platform.startswith("linux") or os.environ.get("XAUTHORITY"):
        return
    path = Path.home() / ".Xauthority"
    if path.exists():
        return
    try:
        path.touch(mode=0o600)
    except OSError as exc:
        raise DisplayError(
            f"{path} is missing and cannot be created ({exc}); create it or set $XAUTHORITY to your X cookie file"
        ) from None


def _run(gui, action: Action, settle_s: float) -> None:
    try:
        _dispatch(gui, action, settle_s)
    except gui.FailSafeException:
        raise ActionError("stopped by the fail-safe (pointer in a screen corner)") from None
    except (gui.PyAutoGUIException, OSError) as exc:
        raise ActionError(f"{action.describe()} failed: {exc}") from None


def _dispatch(gui, action: Action, settle_s: float) -> None:
    if action.point is not None:
        x, y = action.point.rounded()
        gui.moveTo(x, y)
        time.sleep(settle_s)
    verb(action.kind).perform(gui, action, settle_s)
