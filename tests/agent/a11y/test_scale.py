"""GTK 3 at GDK_SCALE=2 reports unscaled (logical) extents on X11; the walker measures the application's scale
against its X11 window and corrects them, so clicks land on the controls the tree names."""

import pytest

from agent.a11y import walk
from agent.desktop import Desktop
from tests.agent.a11y.conftest import SYSTEM_PYTHON, require_desktop_stack, require_gtk
from tests.desktop_session import DesktopSession


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    require_gtk()
    with DesktopSession((1600, 1000)) as running:
        running.form = running.launch([SYSTEM_PYTHON, "tests/apps/gtk_form.py", "--at", "30", "20"],
                                      app="gtk_form.py", min_elements=10, ready_line=True, env={"GDK_SCALE": "2"})
        yield running


def test_hidpi_extents_are_scaled_to_screen_pixels(session, tmp_path):
    snapshot = walk()
    [frame] = [e for e in snapshot.elements if e.role == "frame"]
    # The window was asked for at (30, 20) logical, which X11 places at (60, 40) pixels, twice the size.
    assert (frame.box.x1, frame.box.y1) == (60, 40)
    [apply] = [e for e in snapshot.elements if e.name == "Apply"]
    assert apply.box.height > 50  # a GTK button is ~34 logical px tall: 68 on screen
    desktop = Desktop(model="ocr", log_path=tmp_path / "actions.jsonl")
    for step, event in (("tick Show hidden files", "toggled Show hidden files on"), ("click Apply", "clicked Apply"),
                        ("click the Italic button", "clicked Italic")):
        done = desktop.do(step)
        assert done.plan.targets[0].prediction.extra["source"] == "a11y", step
        assert session.form.events() == [event], step
