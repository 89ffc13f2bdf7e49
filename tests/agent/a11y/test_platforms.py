"""Windows UI Automation and macOS AX behind the same interface, on trees written in each API's shape (fixtures/:
hand-written, not recorded on a live Windows or Mac machine), and their boxes through the capture's Transform chain:
a monitor left of the primary (negative virtual-screen coordinates) and a Retina capture (2 pixels per point)."""

import json

import pytest

from agent.a11y.ax import AxBackend
from agent.a11y.backend import Limits, Progress
from agent.a11y.element import Snapshot
from agent.a11y.grounder import A11yGrounder
from agent.a11y.match import rank
from agent.a11y.source import RecordedSource
from agent.a11y.uia import UiaBackend
from agent.screen import Monitor, ScreenMap, union
from grounding.geometry import Box, Point
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "agent" / "a11y" / "fixtures"


def elements(backend, **limits):
    progress = Progress()
    return list(backend.walk(Limits(**limits), progress)), progress


def uia():
    return UiaBackend(RecordedSource.load(FIXTURES / "uia_two_monitors.json"))


def ax():
    return AxBackend(RecordedSource.load(FIXTURES / "ax_retina.json"))


def test_uia_keeps_what_is_on_screen_enabled_and_named_active_window_first():
    found, progress = elements(uia(), scope="desktop")
    names = [e.name for e in found]
    assert names[0] == "Downloads - File Explorer"  # the active window's application first
    assert names.index("report.pdf") < names.index("notes.txt - Notepad")
    assert "offscreen.txt" not in names and "Rename" not in names  # off screen; disabled
    roles = {e.name: (e.role, e.kind) for e in found}
    assert roles["New folder"] == ("Button", "button") and roles["Details"] == ("TabItem", "tab")
    assert roles["Show hidden items"] == ("CheckBox", "checkbox") and roles["File"][1] == "menu item"
    details = next(e for e in found if e.name == "Details")
    assert "selected" in details.states and details.window == "Downloads - File Explorer"
    assert next(e for e in found if e.name == "Delete").description == "Delete the selected items"
    assert next(e for e in found if e.name == "Text editor").text == "hello"
    only_active, _ = elements(uia(), scope="active")
    assert {e.app for e in only_active} == {"explorer.exe"}


def test_caps_cut_the_walk_and_say_so():
    found, progress = elements(uia(), scope="desktop", max_nodes=5)
    assert progress.nodes == 5 and progress.truncated == "node cap 5" and len(found) <= 5
    _, shallow = elements(uia(), scope="desktop", max_depth=1)
    assert shallow.truncated == "depth cap 1"


def test_negative_origins_map_through_the_capture():
    data = json.loads((FIXTURES / "uia_two_monitors.json").read_text())
    layout = tuple(Monitor(i, *m) for i, m in enumerate(data["monitors"], start=1))
    screen = ScreenMap.of_region(union(layout).box, (3840, 1080), layout)  # a capture of both monitors
    found, _ = elements(uia(), scope="desktop")
    snapshot = Snapshot(tuple(found), "complete").in_image(screen.to_screen.inverse(), (3840, 1080))
    delete = next(e for e in snapshot.elements if e.name == "Delete")
    assert delete.box == Box(-1810, 90, -1750, 160)
    assert delete.image_box == Box(110, 90, 170, 160)  # 1920 px right of the box: the left monitor starts at -1920
    assert screen.point(delete.image_box.center) == delete.box.center
    left = ScreenMap.of_region(layout[1].box, (1920, 1080), layout)  # monitor 2 alone
    only_left = Snapshot(tuple(found), "complete").in_image(left.to_screen.inverse(), (1920, 1080))
    assert {e.app for e in only_left.elements} == {"explorer.exe"}  # Notepad lies on the other monitor


def test_ax_names_icon_buttons_by_description_and_maps_points_to_retina_pixels():
    found, _ = elements(ax())
    by_name = {e.name: e for e in found}
    assert by_name["Bold"].kind == "button" and by_name["Italic"].description == "Make the selection italic"
    assert by_name["Format"].kind == "tab" and {"selected", "checked"} <= by_name["Format"].states
    assert by_name["Wrap to page"].kind == "checkbox" and "checked" not in by_name["Wrap to page"].states
    assert "Hidden option" not in by_name and "Done" not in by_name
    layout = (Monitor(1, 0, 0, 1440, 900),)
    retina = ScreenMap.of_region(layout[0].box, (2880, 1800), layout)  # 2 pixels per point
    snapshot = Snapshot(tuple(found), "complete").in_image(retina.to_screen.inverse(), (2880, 1800))
    bold = next(e for e in snapshot.elements if e.name == "Bold")
    assert bold.box == Box(110, 94, 138, 122) and bold.image_box == Box(220, 188, 276, 244)


@pytest.mark.parametrize("instruction, name", [
    ("click the Bold button", "Bold"),
    ("make the selection italic", "Italic"),  # the description (tooltip) names it
    ("open the Layout tab", "Layout"),
    ("tick 'Wrap to page'", "Wrap to page"),
    ("the Helvetica drop-down", "Helvetica"),
])
def test_matching_over_a_recorded_tree(instruction, name):
    found, _ = elements(ax())
    assert rank(found, instruction)[0].element.name == name


def test_the_grounder_answers_in_image_pixels_from_a_snapshot():
    found, _ = elements(ax())
    layout = (Monitor(1, 0, 0, 1440, 900),)
    retina = ScreenMap.of_region(layout[0].box, (2880, 1800), layout)
    snapshot = Snapshot(tuple(found), "complete", elapsed_s=0.01).in_image(retina.to_screen.inverse(), (2880, 1800))
    grounder = A11yGrounder()
    hit = grounder.judge(snapshot, rank(snapshot.elements, "the Bold button", (2880, 1800)), 0.01)
    assert hit.found and hit.point == Point(248, 216) and hit.extra["source"] == "a11y"
    assert hit.extra["role"] == "AXButton" and hit.score == 1.0
    miss = grounder.judge(snapshot, rank(snapshot.elements, "the Rocket launcher", (2880, 1800)), 0.01)
    assert not miss.found and "a11y tree complete" in miss.raw
