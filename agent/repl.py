"""The interactive agent: type a step, see where it would land, say y / n / e(dit), repeat.

Line editing and history come from readline (kept across sessions in the user's state dir). In practice mode a
saved screenshot stands in for the screen and nothing is ever acted on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from grounding.errors import GroundingError

from .capture import Screenshot
from .commands import parse
from .desktop import Desktop, Plan

HELP_TEXT = """steps:  click X | double-click X | right-click X | hover X | type 'text' [into X] | press ctrl+s
        scroll up|down [N] [in X] | drag X to Y | anything else clicks what it describes
other:  trace (zoom steps of the last look) | help | quit"""


class Repl:
    """`practice` is a saved screenshot to ground on instead of the live screen; the desktop must then be a dry run."""

    def __init__(
        self,
        desktop: Desktop,
        practice: Screenshot | None = None,
        confirm: bool = True,
        preview_dir: str | Path | None = None,
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
    ):
        if practice is not None and not desktop.dry_run:
            raise ValueError("practice mode needs a dry-run desktop")
        self.desktop = desktop
        self.practice = practice
        self.confirm = confirm
        self.preview_dir = Path(preview_dir or tempfile.mkdtemp(prefix="screenground-agent-"))
        self.read = read
        self.write = write
        self.last: Plan | None = None
        self.steps = 0

    def run(self) -> int:
        where = f"practice on {self.practice.source} (nothing is acted on)" if self.practice else (
            f"live screen, monitor {self.desktop.monitor or 'all'}" + (", dry run" if self.desktop.dry_run else "")
        )
        self.write(f"ground agent: {self.desktop.grounder.name}, {where}. `help` lists steps, `quit` leaves.")
        while True:
            try:
                line = self.read("> ").strip()
            except EOFError:
                self.write("")
                return 0
            except KeyboardInterrupt:
                self.write("")
                continue
            if line in ("quit", "exit", "q"):
                return 0
            if line:
                self.handle(line)

    def handle(self, line: str) -> None:
        if line == "help":
            self.write(HELP_TEXT)
        elif line == "trace":
            self.write(self.trace())
        else:
            while line:
                line = self.step(line)

    def step(self, line: str) -> str:
        """Plan, show and maybe act on one line; returns an edited line to plan next, or '' when done."""
        try:
            plan = self.desktop.plan(parse(line), self.practice)
        except GroundingError as exc:
            self.write(f"  {exc}")
            return ""
        self.last = plan
        self.steps += 1
        for located in plan.targets:
            self.write(f"  target {located.describe()}")
        preview = plan.preview()
        if preview is not None:
            path = self.preview_dir / f"step-{self.steps:03d}.png"
            preview.save(path)
            self.write(f"  preview {path}")
        if self.confirm:
            answer = self._ask(f"  {plan.describe()}? [y/n/e] ")
            if answer in ("e", "edit"):
                return self._edit(line)
            if answer not in ("y", "yes"):
                self.write("  skipped")
                return ""
        try:
            done = self.desktop.execute(plan)
        except GroundingError as exc:
            self.write(f"  {exc}")
            return ""
        self.write(f"  {done.describe()}" + (" (practice)" if self.practice else ""))
        return ""

    def _ask(self, question: str) -> str:
        try:
            answer = self.read(question).strip().lower()
        except (EOFError, KeyboardInterrupt):
            return ""
        _forget_last_line()  # a y/n answer is not a step worth recalling with the up arrow
        return answer

    def _edit(self, line: str) -> str:
        try:
            return _read_prefilled(self.read, "edit> ", line).strip()
        except (EOFError, KeyboardInterrupt):
            return ""

    def trace(self) -> str:
        if self.last is None or not self.last.targets:
            return "  no look at the screen yet"
        lines = []
        for located in self.last.targets:
            steps = located.prediction.trace
            lines.append(f"  {located.instruction!r}: {len(steps)} step(s), {located.prediction.calls} call(s)")
            for n, step in enumerate(steps, start=1):
                crop = f" crop {[round(v) for v in step.crop]}" if step.crop else ""
                point = " -> ({}, {})".format(*step.point.rounded()) if step.point else " -> none"
                note = f"  {step.note}" if step.note else ""
                lines.append(f"    {n}. {step.kind}{crop} x{step.scale:.2f}{point} score {step.score:.2f}{note}")
        return "\n".join(lines)


def _read_prefilled(read: Callable[[str], str], prompt: str, text: str) -> str:
    """Ask with `text` already on the line, editable with readline's keys."""
    try:
        import readline
    except ImportError:  # no readline (Windows): the user retypes
        return read(prompt)
    readline.set_startup_hook(lambda: readline.insert_text(text))
    try:
        return read(prompt)
    finally:
        readline.set_startup_hook()


def _forget_last_line() -> None:
    import sys

    readline = sys.modules.get("readline")  # only when input() is using it
    if readline is not None and readline.get_current_history_length() > 0:
        readline.remove_history_item(readline.get_current_history_length() - 1)


def enable_history() -> None:
    """Line editing and history kept across sessions (in the user's state dir)."""
    try:
        import readline
    except ImportError:
        return
    import atexit

    import platformdirs

    path = platformdirs.user_state_path("screenground") / "agent_history"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        readline.read_history_file(path)
    except (FileNotFoundError, OSError):
        pass
    readline.set_history_length(1000)
    atexit.register(_save_history, readline, path)


def _save_history(readline, path: Path) -> None:
    try:
        readline.write_history_file(path)
    except OSError:
        pass
