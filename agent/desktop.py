"""The Python API: ground an instruction on the live screen and act on it.

    from agent import Desktop
    d = Desktop(model="ocr", zoom=True)
    d.click("Save")                      # -> Done: what was clicked, where, and how it went
    d.type("notes.txt", into="File name")
    d.press("ctrl+s")

Every step is plan (capture once, ground each target, map image pixels to screen points) then execute (the
executor's checks, the action, the log); `plan`/`execute` are public so a caller can confirm in between.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from grounding.errors import GroundingError, InstructionError
from grounding.geometry import Point
from grounding.registry import DEFAULT_MODEL
from grounding.types import Grounder, Prediction

from .a11y.grounder import FusedGrounder, ScreenGrounder
from .capture import Screenshot, capture
from .commands import DEFAULT_SCROLL, Command, parse, parse_keys
from .executor import Action, Executor, Outcome, default_log_path
from .verbs import VERBS


class TargetNotFound(GroundingError, LookupError):
    """The grounder did not find the target on the screen."""

    def __init__(self, message: str, located: Located):
        super().__init__(message)
        self.located = located


@dataclass(frozen=True)
class Located:
    """Where an instruction's target is, on the screenshot and on the screen."""

    instruction: str
    prediction: Prediction
    screenshot: Screenshot

    @property
    def found(self) -> bool:
        return self.prediction.found

    @property
    def image_point(self) -> Point | None:
        return self.prediction.point

    @property
    def point(self) -> Point | None:
        """The screen point to act on (None when not found)."""
        return self.screenshot.to_screen(self.prediction.point) if self.found else None

    def describe(self) -> str:
        if not self.found:
            return f"{self.instruction!r}: {self.prediction.status.value} (score {self.prediction.score:.2f})"
        sx, sy = self.point.rounded()
        ix, iy = self.image_point.rounded()
        return f"{self.instruction!r} at screen ({sx}, {sy}), image ({ix}, {iy}), score {self.prediction.score:.2f}"


@dataclass(frozen=True)
class Plan:
    """A command resolved into screen actions, not yet carried out."""

    command: Command
    actions: tuple[Action, ...]
    targets: tuple[Located, ...]
    screenshot: Screenshot | None  # None for commands that need no look at the screen (press, type, scroll)

    def describe(self) -> str:
        return "; then ".join(action.describe() for action in self.actions)

    def preview(self):
        """The screenshot with each target's point and box drawn and labelled (None when nothing was grounded)."""
        from grounding.annotate import annotate

        if self.screenshot is None:
            return None
        image = self.screenshot.image
        for number, located in enumerate(self.targets, start=1):
            label = f"{number}: {located.instruction}" if len(self.targets) > 1 else located.instruction
            image = annotate(image, located.image_point, located.prediction.box, label=label)
        return image


@dataclass(frozen=True)
class Done:
    """A plan and what the executor did with each of its actions."""

    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def point(self) -> Point | None:
        return self.plan.actions[0].point

    @property
    def result(self) -> str:
        return self.outcomes[-1].result

    @property
    def dry_run(self) -> bool:
        return self.outcomes[-1].dry_run

    def describe(self) -> str:
        return "; ".join(outcome.describe() for outcome in self.outcomes)


class Desktop:
    """Ground instructions on the live screen and act on them.

    `model` is a registered grounder name (options go to `grounding.load`) or a ready `Grounder`; `a11y` (default on)
    fuses it with the live accessibility tree: the tree answers when it has a confident match (exact, in
    milliseconds), the model otherwise, and `prediction.extra["source"]` says which (agent/a11y); `a11y=False` is
    vision only. `monitor` is the mss monitor to look at (0: all of them); `dry_run` plans and logs but touches
    nothing; every action is appended as one JSON line to `log_path` (default: `actions.jsonl` in the user's log dir).
    """

    def __init__(
        self,
        model: str | Grounder = DEFAULT_MODEL,
        zoom: Any = None,
        monitor: int = 0,
        dry_run: bool = False,
        log_path: str | None = None,
        settle_s: float = 0.3,
        a11y: bool = True,
        **options: Any,
    ):
        if isinstance(model, str):
            import grounding

            model = grounding.load(model, zoom=zoom, **options)
        if a11y and not isinstance(model, ScreenGrounder):
            model = FusedGrounder(model)
        if isinstance(model, ScreenGrounder):
            model.warm_up()  # the tree walker's process starts while the caller gets on with its script
        self.grounder = model
        self.monitor = monitor
        self.executor = Executor(dry_run=dry_run, log_path=log_path or default_log_path(), settle_s=settle_s)

    @property
    def dry_run(self) -> bool:
        return self.executor.dry_run

    def screenshot(self) -> Screenshot:
        return capture(self.monitor)

    def locate(self, instruction: str, screenshot: Screenshot | None = None) -> Located:
        """Where `instruction`'s target is (found or not; `click` and friends raise when it is not)."""
        shot = screenshot if screenshot is not None else self.screenshot()
        if isinstance(self.grounder, ScreenGrounder):
            return Located(instruction, self.grounder.locate_on(shot, instruction), shot)
        return Located(instruction, self.grounder.locate(shot.image, instruction), shot)

    def wait_for(self, instruction: str, timeout: float = 10.0, interval: float = 0.5) -> Located:
        """Re-capture and re-ground until the target shows up; TargetNotFound after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            located = self.locate(instruction)
            if located.found:
                return located
            if time.monotonic() + interval > deadline:
                raise TargetNotFound(f"{instruction!r} did not appear within {timeout:g}s", located)
            time.sleep(interval)

    def plan(self, command: Command | str, screenshot: Screenshot | None = None) -> Plan:
        """Resolve a command (or a line such as "click Save") into screen actions, grounding on one screenshot."""
        command = parse(command) if isinstance(command, str) else command
        wanted = [t for t in (command.target, command.destination) if t]
        shot = None
        if wanted:
            shot = screenshot if screenshot is not None else self.screenshot()
        targets = tuple(self._find(instruction, shot) for instruction in wanted)
        points = [located.point for located in targets]
        return Plan(command, _actions(command, points), targets, shot)

    def _find(self, instruction: str, shot: Screenshot) -> Located:
        located = self.locate(instruction, shot)
        if not located.found:
            raise TargetNotFound(f"could not find {located.describe()} on {shot.source}", located)
        return located

    def execute(self, plan: Plan) -> Done:
        monitors = plan.screenshot.screen.monitors if plan.screenshot else ()
        shot_hash = plan.screenshot.hash if plan.screenshot else ""
        instruction = plan.command.describe()
        outcomes = tuple(
            self.executor.perform(action, monitors, instruction=instruction, screenshot_hash=shot_hash)
            for action in plan.actions
        )
        return Done(plan, outcomes)

    def do(self, command: Command | str, screenshot: Screenshot | None = None) -> Done:
        return self.execute(self.plan(command, screenshot))

    def click(self, target: str) -> Done:
        return self.do(Command("click", target=target))

    def double_click(self, target: str) -> Done:
        return self.do(Command("double_click", target=target))

    def right_click(self, target: str) -> Done:
        return self.do(Command("right_click", target=target))

    def hover(self, target: str) -> Done:
        return self.do(Command("hover", target=target))

    def type(self, text: str, into: str | None = None) -> Done:
        """Type `text`, first clicking `into` when given (otherwise into whatever has the focus)."""
        return self.do(Command("type", target=into, text=text))

    def press(self, keys: str) -> Done:
        """One key or a chord: "enter", "ctrl+s", "ctrl+shift+t"."""
        return self.do(Command("press", keys=parse_keys(keys)))

    def scroll(self, direction: str = "down", amount: int = DEFAULT_SCROLL, over: str | None = None) -> Done:
        """Scroll `amount` wheel clicks up or down, over `over` when given (otherwise where the pointer is)."""
        if direction not in ("up", "down"):
            raise InstructionError(f"scroll direction must be 'up' or 'down', got {direction!r}")
        if amount < 1:
            raise InstructionError(f"scroll amount must be at least 1 wheel click, got {amount}")
        return self.do(Command("scroll", target=over, amount=amount if direction == "up" else -amount))

    def drag(self, source: str, destination: str) -> Done:
        return self.do(Command("drag", target=source, destination=destination))


def _actions(command: Command, points: list[Point]) -> tuple[Action, ...]:
    """The screen actions a command becomes, by its verb's row in the table (verbs.py)."""
    spec = VERBS[command.action]
    args = {arg: getattr(command, arg) for arg in spec.args}
    if spec.click_first:
        act = Action(command.action, **args)
        return (Action("click", points[0]), act) if points else (act,)
    point = points[0] if points and spec.point != "none" else None
    to = points[1] if spec.destination else None
    return (Action(command.action, point, to=to, **args),)
