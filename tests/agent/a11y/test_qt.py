"""A real Qt 5 application's tree over AT-SPI (QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1), acted on for real."""

import subprocess

import pytest

from agent.a11y import walk
from agent.a11y.atspi import bus_address
from agent.desktop import Desktop
from tests.agent.a11y.conftest import SYSTEM_PYTHON, require_desktop_stack, require_qt
from tests.desktop_session import DesktopSession


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    require_qt()
    with DesktopSession((1280, 800)) as running:
        running.form = running.launch(
            [SYSTEM_PYTHON, "tests/apps/qt_form.py"], app="qt_form.py", min_elements=8, ready_line=True,
            env={"QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}, tries=5, timeout=60,
        )
        yield running


def test_qt_tree_and_real_clicks(session, tmp_path):
    snapshot = walk()
    roles = {e.name: e.role for e in snapshot.elements}
    assert roles["Apply"] == "push button" and roles["Wrap lines"] == "check box"
    assert roles["Advanced"] == "page tab" and roles["Refresh"] == "push button"
    # Qt 5.15 crashes on Properties.GetAll; the walk asks one property at a time, so the app is still alive.
    assert session.form.process.poll() is None
    desktop = Desktop(model="ocr", log_path=tmp_path / "actions.jsonl")
    form = session.form
    for step, event in (("click Refresh", "clicked Refresh"), ("tick 'Wrap lines'", "toggled Wrap lines on"),
                        ("click the Advanced tab", "tab Advanced"), ("click Apply", "clicked Apply")):
        done = desktop.do(step)
        assert done.plan.targets[0].prediction.extra["source"] == "a11y", step
        assert form.events() == [event], step
    desktop.click("the File menu")
    desktop.click("Open")
    assert form.events() == ["menu Open"]


def test_the_bus_address_stays_on_the_display():
    """Qt 5 connects reliably only when AT_SPI_BUS is on the X root window; an X server that resets when its last
    client leaves (Xvfb's default) drops it, and Qt's bridge then often never exports its tree (the CI failure:
    'never published' with nothing on stderr). The session's Xvfb must keep it through clients coming and going."""
    require_desktop_stack()
    with DesktopSession((640, 480)):
        for _ in range(3):  # each xprop is an X client that connects and leaves, the last one each time
            shown = subprocess.run(["xprop", "-root", "AT_SPI_BUS"], capture_output=True, text=True, timeout=10)
            assert bus_address(2.0) in shown.stdout
