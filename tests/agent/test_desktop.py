"""The desktop agent on a real X display: a Tk app reports which widget each grounded action really reached.

Needs Xvfb (skipped without it, but failing under CI, which installs it). The executor's checks, dry runs and log
are also tested without any display.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.a11y.headless import start_xvfb
from agent.capture import Screenshot, capture, monitors
from agent.desktop import Desktop, TargetNotFound
from agent.executor import Action, ActionError, Executor
from agent.screen import Monitor, OffScreenError, ScreenMap
from grounding.errors import OptionError
from grounding.geometry import Box, Point
from tests.conftest import REPO, require_module, require_tool
from tests.desktop_session import App as SessionApp

APP = REPO / "tests" / "apps" / "buttons.py"
SCREEN = (1280, 800)  # deliberately not a default size: proves the layout is read, not assumed


# --- without a display -------------------------------------------------------------------------------------------

LAYOUT = (Monitor(1, 0, 0, 1920, 1080), Monitor(2, -1280, 0, 1280, 1024))


def read_log(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_dry_run_needs_no_display_and_logs_every_action(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)  # a real action would fail: proves a dry run touches nothing
    log = tmp_path / "actions.jsonl"
    executor = Executor(dry_run=True, log_path=log)
    outcome = executor.perform(Action("click", Point(-640.7, 500.2)), LAYOUT, "click Trash", "abc123")
    assert (outcome.result, outcome.performed, outcome.dry_run) == ("dry run", False, True)
    executor.perform(Action("press", keys=("ctrl", "s")), (), "press ctrl+s")
    with pytest.raises(OffScreenError, match=r"\(-1281, 10\)"):
        executor.perform(Action("drag", Point(5, 5), to=Point(-1280.5, 10)), LAYOUT, "drag A to B", "abc123")
    with pytest.raises(ActionError, match="ASCII"):
        executor.perform(Action("type", text="héllo"), (), "type 'héllo'")
    entries = read_log(log)
    assert [e["result"].split(":")[0] for e in entries] == ["dry run", "dry run", "refused", "refused"]
    first = entries[0]
    assert set(first) == {"time", "instruction", "screenshot", "action", "result", "dry_run"}
    assert first["action"] == {"kind": "click", "point": [-641, 500]}
    assert (first["instruction"], first["screenshot"]) == ("click Trash", "abc123")
    assert abs(first["time"] - time.time()) < 60
    assert entries[1]["action"] == {"kind": "press", "keys": ["ctrl", "s"]}
    assert entries[2]["action"]["to"] == [-1281, 10]


def test_no_display_is_a_one_line_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "do", "click Apply", "--yes", "--log", str(tmp_path / "a.jsonl")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("ground: error: no display: $DISPLAY is not set")
    assert len(proc.stderr.strip().splitlines()) == 1


# --- on a real Xvfb display ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def display():
    require_tool("Xvfb", "xvfb")
    require_module("tkinter", "apt-get install python3-tk")
    try:
        server, name, read_end = start_xvfb(SCREEN)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    # The read end stays open while the server runs: Xvfb treats a failed write to it as fatal.
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    yield os.environ["DISPLAY"]
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    server.terminate()
    server.wait(timeout=10)
    os.close(read_end)


class App(SessionApp):
    """The Tk test app; its stdout lines are the events it saw."""

    def __init__(self, *args, wait_ready=True):
        tk_app = subprocess.Popen(
            [sys.executable, str(APP), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        super().__init__(tk_app, APP.name)
        if wait_ready:
            assert self.expect("ready", timeout=20), "the test app did not come up"

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def app(display):
    started = []

    def start(*args, **kwargs):
        started.append(App(*args, **kwargs))
        return started[-1]

    yield start
    for running in started:
        running.close()


@pytest.fixture(scope="session")
def desktop(display, tmp_path_factory):
    log = tmp_path_factory.mktemp("desktop") / "actions.jsonl"
    return Desktop(model="ocr", log_path=log, settle_s=0.3)


def pointer():
    import pyautogui

    return tuple(pyautogui.position())


def ground(*args, home, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "XAUTHORITY"} | {"HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_live_capture_reads_the_layout(display, app):
    app()
    assert monitors() == (Monitor(1, 0, 0, *SCREEN),)
    whole = capture()
    assert whole.image.size == SCREEN and whole.screen.scale == 1.0 and whole.source == "all monitors"
    assert capture(monitor=1).image.tobytes() == whole.image.tobytes()
    region = Box(100, 80, 700, 300)
    part = capture(region=region)
    assert part.screen.region == region
    assert part.image.tobytes() == whole.image.crop((100, 80, 700, 300)).tobytes()
    assert len(part.image.getcolors(maxcolors=1 << 16) or ()) > 2  # the app's window is in it, not a blank screen
    with pytest.raises(OptionError, match="no monitor 2"):
        capture(monitor=2)
    with pytest.raises(OffScreenError):
        capture(region=Box(SCREEN[0] + 10, 0, SCREEN[0] + 200, 100))


def test_ground_do_clicks_the_named_button(app, tmp_path):
    window = app()
    log = tmp_path / "actions.jsonl"
    # Confirmation is on by default; with no terminal to ask on, nothing happens without --yes.
    unconfirmed = ground("do", "click Apply", "--log", str(log), home=tmp_path)
    assert unconfirmed.returncode == 2
    assert "ground: error: not confirmed: click at" in unconfirmed.stderr and "--yes" in unconfirmed.stderr
    assert window.events(quiet=0.5) == [] and not log.exists()
    proc = ground("do", "click Apply", "--yes", "--monitor", "1", "--log", str(log), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert window.events() == ["pressed Apply"]
    assert window.process.wait(timeout=10) == 0
    assert (tmp_path / ".Xauthority").exists()  # created for python-xlib, which refuses to start without one
    [entry] = read_log(log)
    assert entry["instruction"] == "click 'Apply'" and entry["result"] == "done"
    assert entry["action"]["kind"] == "click" and len(entry["screenshot"]) == 32
    assert "click at" in proc.stdout and "done" in proc.stdout


def test_desktop_click_presses_that_button(app, desktop):
    window = app()
    done = desktop.click("Cancel")
    assert window.events() == ["pressed Cancel"]
    assert done.result == "done" and not done.dry_run
    [target] = done.plan.targets
    assert target.found and done.point == target.point
    assert target.prediction.box is not None and target.prediction.box.contains(target.image_point)


def test_desktop_other_actions_reach_their_widgets(app, desktop):
    window = app()
    desktop.hover("Hover here")
    desktop.right_click("Discard")
    desktop.double_click("Open report")
    typed = desktop.type("hello", into="Search")
    assert [a.kind for a in typed.plan.actions] == ["click", "type"]
    desktop.press("enter")
    desktop.press("ctrl+s")
    events = window.events()
    assert events[:3] == ["hovered Hover here", "right-clicked Discard", "double-clicked Open report"]
    assert events[4:] == ["pressed ctrl+s"]
    # The click lands inside "Search", so the text goes in there: every letter of both words, in their order.
    entry = events[3].removeprefix("typed ")
    assert "hello" in entry and entry.replace("hello", "") == "Search"
    assert window.process.poll() is None  # none of these pressed a button


def test_dry_run_presses_nothing(app, desktop, tmp_path):
    window = app()
    before = pointer()
    log = tmp_path / "actions.jsonl"
    dry = Desktop(model=desktop.grounder, dry_run=True, log_path=log)
    done = dry.click("Apply")
    typed = dry.type("oops", into="Search")
    assert (done.result, done.dry_run, typed.result) == ("dry run", True, "dry run")
    assert done.plan.targets[0].found  # it did look: the target was found, only the action was skipped
    assert window.events(quiet=1.5) == [] and window.process.poll() is None
    assert pointer() == before
    entries = read_log(log)
    assert [e["action"]["kind"] for e in entries] == ["click", "click", "type"]
    assert all(e["dry_run"] is True and e["result"] == "dry run" for e in entries)


def test_off_screen_points_are_refused(app, desktop, tmp_path):
    window = app()
    before = pointer()
    executor = Executor(log_path=tmp_path / "actions.jsonl")
    with pytest.raises(OffScreenError):
        executor.perform(Action("click", Point(SCREEN[0] + 5, 200)), monitors(), "click beyond the edge")
    # A screenshot whose recorded geometry no longer matches the screen (a monitor was unplugged): the grounded
    # point maps beyond every monitor and the click is refused rather than landing somewhere else.
    shot = capture()
    moved = ScreenMap.of_region(Box(SCREEN[0], 0, 2 * SCREEN[0], SCREEN[1]), SCREEN, shot.screen.monitors)
    stale = Screenshot(shot.image, moved, "stale")
    plan = desktop.plan("click Apply", stale)
    assert plan.targets[0].found and plan.actions[0].point.x >= SCREEN[0]
    with pytest.raises(OffScreenError):
        desktop.execute(plan)
    assert window.events(quiet=1.0) == [] and pointer() == before
    assert read_log(tmp_path / "actions.jsonl")[0]["result"].startswith("refused: point")


def test_wait_for_recaptures_until_the_target_appears(app, desktop):
    window = app("--delay", "2", wait_ready=False)
    with pytest.raises(TargetNotFound, match="did not appear within 0.5s"):
        desktop.wait_for("Apply", timeout=0.5)
    located = desktop.wait_for("Apply", timeout=30, interval=0.3)
    assert located.found and window.expect("ready", timeout=1)
    desktop.execute(desktop.plan("click Apply", located.screenshot))
    assert window.events() == ["pressed Apply"]


def test_gtk_dialog_gets_the_click(display, desktop):
    # GTK ignores a press that arrives before the pointer has entered the button (pitfalls doc); the executor moves,
    # settles, then presses, and the GTK dialog must report the button that was pressed.
    require_tool("zenity", "zenity")
    dialog = subprocess.Popen(
        ["zenity", "--question", "--text", "Keep these settings?", "--ok-label", "Apply", "--cancel-label", "Discard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        located = desktop.wait_for("Discard", timeout=30, interval=0.5)
        desktop.execute(desktop.plan("click Discard", located.screenshot))
        assert dialog.wait(timeout=10) == 1  # zenity's exit code for the cancel button: Discard, not Apply
    finally:
        if dialog.poll() is None:
            dialog.kill()
