"""Check boxes, radio buttons and switches named by their label: the click goes on the control, not the words."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

import grounding
from grounding.geometry import Box
from grounding.icons.beside import control_beside, names_a_toggle

INK = (40, 40, 40)


def put_label(image: np.ndarray, text: str, x: int, baseline: int) -> Box:
    """Draw `text` and return the box of its ink, as OCR would report it."""
    cv2.putText(image, text, (x, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.6, INK, 1, cv2.LINE_AA)
    (width, height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    return Box(x, baseline - height - 2, x + width, baseline + 4)


def settings_screen() -> tuple[np.ndarray, dict[str, Box], dict[str, Box]]:
    """A 1080p page with a file list (check box, type icon, name), a dialog row and a switch; labels and controls."""
    image = np.full((1080, 1920, 3), 250, np.uint8)
    labels, controls = {}, {}
    for row, name in enumerate(("notebooks", "reports", "README.md")):
        y = 300 + 40 * row
        cv2.rectangle(image, (374, y - 7), (387, y + 6), (120, 120, 120), 1)  # the check box
        cv2.rectangle(image, (394, y - 6), (410, y + 5), (90, 140, 200), -1)  # the folder / file icon
        controls[name] = Box(374, y - 7, 388, y + 7)
        labels[name] = put_label(image, name, 420, y + 6)
    # A dialog check box: the label a little farther from its box, another column's control to its left.
    cv2.rectangle(image, (860, 713), (876, 729), INK, 1)
    cv2.rectangle(image, (905, 713), (921, 729), INK, 1)
    cv2.line(image, (908, 721), (912, 726), INK, 2)
    cv2.line(image, (912, 726), (919, 715), INK, 2)
    controls["Thousands separator"] = Box(905, 713, 922, 730)
    labels["Thousands separator"] = put_label(image, "Thousands separator", 932, 727)
    # A switch after its label, nothing before it.
    labels["Wrap lines"] = put_label(image, "Wrap lines", 1300, 506)
    cv2.rectangle(image, (1420, 490), (1458, 510), (60, 130, 220), -1)
    cv2.circle(image, (1448, 500), 8, (255, 255, 255), -1)
    controls["Wrap lines"] = Box(1420, 490, 1459, 511)
    # A plain label: nothing to tick near it; a mark far to its left belongs to something else.
    labels["Status"] = put_label(image, "Status", 1300, 806)
    cv2.rectangle(image, (1000, 790), (1014, 804), INK, 1)
    return image, labels, controls


def test_the_control_opening_the_row_is_found_past_a_type_icon():
    image, labels, controls = settings_screen()
    for name in ("notebooks", "reports", "README.md", "Thousands separator", "Wrap lines"):
        found = control_beside(image, labels[name])
        assert found is not None and controls[name].contains(found.center), (name, found)
    assert control_beside(image, labels["Status"]) is None


def test_words_elsewhere_on_the_screen_do_not_hide_the_control():
    image, labels, controls = settings_screen()
    far_words = [Box(-40, 280, 120, 320), Box(1500, 100, 1700, 130)]  # partly off the searched strip, and beyond it
    found = control_beside(image, labels["notebooks"], far_words)
    assert found is not None and controls["notebooks"].contains(found.center)


def test_which_instructions_ask_for_a_toggle():
    assert names_a_toggle("tick the README.md checkbox", "checkbox")
    assert names_a_toggle("toggle Select directory 'reports'", None)
    assert names_a_toggle("Uncheck 'Case sensitive'", None)
    assert not names_a_toggle("click the Save button", "button")
    assert not names_a_toggle("checkout the branch", None)


def test_offline_clicks_the_box_of_a_label_it_reads():
    image, labels, controls = settings_screen()
    grounder = grounding.load("offline", zoom=False)
    screen = Image.fromarray(image)
    ticked = grounder.locate(screen, 'tick the "Select directory "notebooks"" checkbox')
    assert ticked.extra["source"] == "text+control" and controls["notebooks"].contains(ticked.point), ticked
    assert labels["notebooks"].contains(Box(*ticked.extra["label"]).center)
    plain = grounder.locate(screen, "click notebooks")  # no check box asked for: the words themselves
    assert plain.extra["source"] == "text" and labels["notebooks"].expand(2).contains(plain.point)
