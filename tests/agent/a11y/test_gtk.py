"""The accessibility tree of a real GTK 3 application on Xvfb, read over AT-SPI, and acted on for real: the app
reports which of its controls received each click."""

import os
import time

import pytest

from agent.a11y import Limits, Walker, walk
from agent.a11y.headless import start_xvfb
from agent.capture import capture, load_screenshot
from agent.desktop import Desktop
from grounding.geometry import Box
from tests.agent.a11y.conftest import SYSTEM_PYTHON, require_desktop_stack, require_gtk
from tests.desktop_session import DesktopSession

FORM = ["tests/apps/gtk_form.py"]
WINDOW = (40, 30)  # where the form puts its window


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    require_gtk()
    with DesktopSession((1280, 800)) as running:
        running.form = running.launch([SYSTEM_PYTHON, *FORM], app="gtk_form.py", min_elements=10, ready_line=True)
        yield running


@pytest.fixture
def form(session):
    session.form.events(quiet=0.3)  # forget what earlier tests caused
    return session.form


def by_name(snapshot, name):
    return [e for e in snapshot.elements if e.name == name]


def test_the_walk_reads_names_roles_states_and_boxes(session):
    snapshot = walk()
    assert snapshot.status == "complete" and snapshot.nodes >= len(snapshot.elements) > 10
    roles = {e.name: e.role for e in snapshot.elements}
    assert roles["Apply"] == "push button" and roles["Wrap lines"] == "check box"
    assert roles["Advanced"] == "page tab" and roles["File"] == "menu"
    assert roles["Bold"] == "push button"  # an icon-only tool button: its name exists only in the tree
    [apply] = by_name(snapshot, "Apply")
    assert {"showing", "visible", "enabled"} <= apply.states and apply.kind == "button"
    [frame] = [e for e in snapshot.elements if e.role == "frame"]
    assert frame.name == "screenground GTK form" and (frame.box.x1, frame.box.y1) == WINDOW
    for element in snapshot.elements:  # every box lies inside the window, with a positive size
        assert frame.box.intersection(element.box) == element.box and element.box.area > 0
    # Nothing of the closed menus: their items are not showing.
    assert not by_name(snapshot, "Open") and not by_name(snapshot, "Preferences")


def test_image_boxes_follow_the_screenshot(session):
    whole = capture()
    region = capture(region=Box(20, 20, 420, 420))
    full, part = walk(screenshot=whole), walk(screenshot=region)
    [apply_full] = by_name(full, "Apply")
    [apply_part] = by_name(part, "Apply")
    assert apply_full.image_box == apply_full.box  # one pixel per point, no offset
    assert apply_part.box == apply_full.box
    assert apply_part.image_box.to_list() == [v - 20 for v in apply_full.box.to_list()]  # the region's offset


def test_desktop_clicks_through_the_tree(session, form, log):
    desktop = Desktop(model="ocr", log_path=log)
    for step, event in (("click the Bold button", "clicked Bold"), ("tick Wrap lines", "toggled Wrap lines on"),
                        ("click the Advanced tab", "tab Advanced"), ("click 'Apply'", "clicked Apply")):
        done = desktop.do(step)
        prediction = done.plan.targets[0].prediction
        assert prediction.extra["source"] == "a11y", (step, prediction.trace)
        assert form.events() == [event], step
    desktop.click("the General tab")
    assert form.events() == ["tab General"]


def test_a_menu_item_in_the_open_menu(session, form, log):
    desktop = Desktop(model="ocr", log_path=log)
    desktop.click("the File menu")
    done = desktop.click("Open")  # the popup is a window of its own: found because the walk reads the app's windows
    assert done.plan.targets[0].prediction.extra["role"] == "menu item"
    assert form.events() == ["menu Open"]


def test_a_custom_drawn_control_falls_back_to_vision(session, form, log):
    desktop = Desktop(model="ocr", log_path=log)
    done = desktop.click("Launch")  # drawn on a canvas: no element, OCR reads it
    prediction = done.plan.targets[0].prediction
    assert prediction.extra["source"] == "vision"
    assert "no confident tree match" in prediction.trace[0].raw
    assert form.events() == ["custom Launch"]


def test_vision_only_and_saved_screenshots_skip_the_tree(session, form, log, tmp_path):
    vision = Desktop(model="ocr", log_path=log, a11y=False)
    located = vision.locate("Apply")
    assert vision.grounder.name == "ocr+zoom" and located.found and "source" not in located.prediction.extra
    path = tmp_path / "shot.png"
    capture().image.save(path)
    fused = Desktop(model="ocr", log_path=log, dry_run=True)
    located = fused.locate("Apply", load_screenshot(path))
    assert located.prediction.extra["source"] == "vision"
    assert "a saved screenshot, no tree" in located.prediction.trace[0].raw


def test_the_a11y_grounder_alone(session):
    import grounding

    grounder = grounding.load("a11y")
    shot = capture()
    found = grounder.locate(shot.image, "the Show hidden files checkbox")
    assert found.found and found.extra["role"] == "check box" and found.extra["source"] == "a11y"
    assert found.box.contains(found.point)
    missing = grounder.locate(shot.image, "the Rocket launcher")
    assert missing.status.value == "not_found" and "a11y tree complete" in missing.raw
    # One walk per screenshot: the second question about the same pixels reuses it, and says so.
    assert found.extra["tree_cached"] is False and missing.extra["tree_cached"] is True


def test_ground_do_says_which_source_won(session, form, tmp_path):
    import subprocess
    import sys

    def ground(*args):
        return subprocess.run([sys.executable, "-m", "agent.cli", "do", *args, "--yes", "--model", "ocr",
                               "--log", str(tmp_path / "a.jsonl")], capture_output=True, text=True, timeout=300)

    fused = ground("tick 'Show hidden files'")
    assert fused.returncode == 0, fused.stderr
    assert "[a11y]" in fused.stdout and form.events() == ["toggled Show hidden files on"]
    vision = ground("tick 'Show hidden files'", "--no-a11y")
    assert vision.returncode == 0, vision.stderr
    assert "[a11y]" not in vision.stdout and form.events() == ["toggled Show hidden files off"]


def test_an_application_on_another_display_sharing_the_bus_is_left_out(session, monkeypatch):
    """Two X displays, one accessibility bus (a second display started inside the same session): each display's
    walk lists only the applications with a window on it, so no click aims at a control another display shows."""
    server, other, keep_open = start_xvfb((800, 600))
    form = None
    try:
        form = session.launch([SYSTEM_PYTHON, *FORM, "--title", "other display form"], app="", min_elements=0,
                              ready_line=True, env={"DISPLAY": other})
        monkeypatch.setenv("DISPLAY", other)
        walker = Walker()  # its worker takes the other display from the environment
        try:
            deadline = time.monotonic() + 30
            while not (there := frames(walker.walk(Limits(scope="desktop"), 5.0))) and time.monotonic() < deadline:
                time.sleep(0.3)  # the bridge registers on the bus a moment after the window shows
        finally:
            walker.close()
        assert there == {"other display form"}
        monkeypatch.undo()
        here = walk(scope="desktop")
        assert frames(here) == {"screenground GTK form"}
        assert any(note.startswith("not on this display") for note in here.notes)
    finally:
        if form is not None:
            form.stop()
        server.terminate()
        server.wait()
        os.close(keep_open)


def frames(snapshot) -> set[str]:
    return {e.name for e in snapshot.elements if e.role == "frame"}
