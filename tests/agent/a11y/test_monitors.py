"""Two monitors, a real GTK form on each: the same control names on both, so a click lands in the right form only
when the tree's screen boxes and the capture of one monitor go through the same Transform (the second monitor's
origin is (1280, 200): a non-zero x and y, with a part of the root window that lies on no monitor)."""

import pytest

from agent.a11y import walk
from agent.a11y.grounder import A11yGrounder
from agent.capture import capture, monitors
from agent.desktop import Desktop
from agent.screen import Monitor
from grounding.geometry import Transform
from tests.agent.a11y.conftest import SYSTEM_PYTHON, require_desktop_stack, require_gtk
from tests.conftest import missing, require_tool
from tests.desktop_session import DesktopSession

LEFT, RIGHT = (0, 0, 1280, 800), (1280, 200, 1024, 768)


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    require_gtk()
    require_tool("xrandr", "x11-xserver-utils")
    with DesktopSession(monitors=(LEFT, RIGHT)) as running:
        if len(monitors()) != 2:
            import mss

            missing(f"needs mss >= 10.2, which lists RandR 1.5 monitors (installed: mss {mss.__version__})")
        running.forms = {
            side: running.launch([SYSTEM_PYTHON, "tests/apps/gtk_form.py", "--title", f"{side} form", "--at",
                                  str(x + 40), str(y + 30)], app="gtk_form.py", min_elements=10, ready_line=True)
            for side, (x, y, _, _) in (("left", LEFT), ("right", RIGHT))
        }
        yield running


@pytest.fixture
def forms(session):
    for form in session.forms.values():
        form.events(quiet=0.3)  # forget what earlier tests caused
    return session.forms


def test_mss_sees_the_layout_and_the_tree_places_each_window_on_its_monitor(session):
    assert monitors() == (Monitor(1, *LEFT), Monitor(2, *RIGHT))
    frames = {e.window: e.box for e in walk(scope="desktop").elements if e.role == "frame"}
    assert (frames["left form"].x1, frames["left form"].y1) == (40, 30)
    assert (frames["right form"].x1, frames["right form"].y1) == (1320, 230)


@pytest.mark.parametrize("grounder", ["a11y", "fused"])
def test_a_click_on_one_monitor_reaches_the_form_on_that_monitor(forms, grounder, tmp_path):
    for monitor, side in ((2, "right"), (1, "left")):
        model = A11yGrounder(scope="desktop") if grounder == "a11y" else "ocr"
        desktop = Desktop(model, monitor=monitor, log_path=tmp_path / "actions.jsonl")
        done = desktop.do("click Apply")
        prediction = done.plan.targets[0].prediction
        assert prediction.extra["source"] == "a11y" and prediction.extra["window"] == f"{side} form"
        # The answer is in the monitor capture's pixels; the click went through that capture's offset.
        assert done.plan.screenshot.source == f"monitor {monitor}"
        assert done.point == done.plan.screenshot.to_screen(prediction.point)
        assert forms[side].events() == ["clicked Apply"]
        assert forms["left" if side == "right" else "right"].events(quiet=0.1) == []


def test_vision_finds_a_custom_control_on_the_second_monitor(forms, tmp_path):
    """The canvas-drawn "Launch" is not in the tree: the fused grounder's vision side finds it in the capture of
    monitor 2 and the click lands on it through the same map."""
    desktop = Desktop("ocr", monitor=2, log_path=tmp_path / "actions.jsonl")
    done = desktop.do("click Launch")
    assert done.plan.targets[0].prediction.extra["source"] == "vision"
    assert forms["right"].events() == ["custom Launch"] and forms["left"].events(quiet=0.1) == []


def test_a_capture_of_every_monitor_maps_the_second_form_through_the_union(forms):
    shot = capture()
    assert shot.image.size == (1280 + 1024, 200 + 768)
    [apply] = [e for e in walk(scope="desktop", screenshot=shot).elements
               if e.name == "Apply" and e.window == "right form"]
    assert apply.image_box == apply.box  # the union starts at (0, 0): one pixel per point, no offset
    right = capture(monitor=2)
    [on_right] = [e for e in walk(scope="desktop", screenshot=right).elements if e.name == "Apply"]
    assert on_right.window == "right form"
    assert on_right.image_box == Transform.translate(-1280, -200).apply_box(on_right.box)
