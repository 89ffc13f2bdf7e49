"""`ground agent --screenshot` driven through a real pseudo-terminal: preview, confirm, edit, history, trace, quit."""

import json
import os
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

from grounding.annotate import PREDICTED
from grounding.geometry import Box, Point
from tests.conftest import REPO, require_module

pexpect = require_module("pexpect", "pip install -e '.[dev]'")

SHOT = REPO / "samples" / "images" / "libreoffice_writer_linux" / "libreoffice_writer_1920x1080_main.png"
ANNOTATIONS = REPO / "samples" / "annotations" / "libreoffice_writer_linux.json"
TARGET = re.compile(r"target '(?P<name>[^']+)' at screen \((?P<x>\d+), (?P<y>\d+)\)")


def truth(name):
    """The annotated box of the menu called `name` in the sample."""
    records = json.loads(ANNOTATIONS.read_text())
    return Box(*next(r["bbox"] for r in records if r.get("name") == name))


@pytest.fixture
def practice_shot(tmp_path):
    """The sample's menu and toolbar rows: a real screenshot, small enough for a fast OCR pass."""
    path = tmp_path / "writer_top.png"
    with Image.open(SHOT) as image:
        image.crop((0, 0, 960, 160)).save(path)
    return path


@pytest.fixture
def agent(tmp_path, practice_shot):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"HOME": str(tmp_path), "TERM": "xterm"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent.cli", "agent", "--screenshot", str(practice_shot), "--preview-dir", str(tmp_path / "previews"),
         "--log", str(tmp_path / "actions.jsonl")],
        env=env, encoding="utf-8", timeout=120, dimensions=(40, 200),
    )
    yield child
    child.close(force=True)


def planned(child, name):
    """Wait for the target line of `name`; return the screen point it reports."""
    child.expect(TARGET)
    assert child.match.group("name") == name
    return Point(int(child.match.group("x")), int(child.match.group("y")))


def test_practice_session(agent, tmp_path):
    (tmp_path / "previews").mkdir()
    agent.expect("quit` leaves")
    agent.expect_exact("> ")

    agent.sendline("click Edit")
    point = planned(agent, "Edit")
    assert truth("Edit").contains(point)  # practice: screen points are the screenshot's pixels
    agent.expect(r"preview (\S+\.png)")
    preview = Path(agent.match.group(1))
    with Image.open(preview) as image:
        assert image.size == (960, 160)
        assert image.convert("RGB").getpixel((point.x - 10, point.y)) == PREDICTED  # the crosshair is drawn there
    agent.expect_exact("click at ({}, {})? [y/n/e] ".format(*point.rounded()))

    # e(dit): the line comes back pre-filled; wipe it (ctrl-U) and ask for another menu instead.
    agent.sendline("e")
    agent.expect_exact("edit> ")
    agent.expect_exact("click Edit")
    agent.sendline("\x15click Styles")
    styles_point = planned(agent, "Styles")
    assert truth("Styles").contains(styles_point)
    agent.expect_exact("[y/n/e] ")
    agent.sendline("y")
    agent.expect_exact("click at ({}, {}): dry run (practice)".format(*styles_point.rounded()))

    agent.expect_exact("> ")
    agent.sendline("trace")
    agent.expect(r"'Styles': \d+ step\(s\), \d+ call\(s\)")

    agent.expect_exact("> ")
    agent.sendline("press ctrl+s")
    agent.expect_exact("press ctrl+s? [y/n/e] ")
    agent.sendline("n")
    agent.expect_exact("skipped")

    # History: arrow-up recalls the last step typed (the y/n answers are not kept), and it runs again.
    agent.expect_exact("> ")
    agent.send("\x1b[A\r")
    agent.expect_exact("press ctrl+s? [y/n/e] ")
    agent.sendline("n")

    agent.expect_exact("> ")
    agent.sendline("click the Frobnicate Quux")
    agent.expect("could not find 'the Frobnicate Quux'")
    agent.expect_exact("> ")
    agent.sendline("type hello")
    agent.expect("put the text to type in quotes")

    agent.expect_exact("> ")
    agent.sendline("quit")
    agent.expect(pexpect.EOF)
    agent.close()
    assert agent.exitstatus == 0

    [entry] = [json.loads(line) for line in (tmp_path / "actions.jsonl").read_text().splitlines()]
    assert entry["action"] == {"kind": "click", "point": list(styles_point.rounded())}
    assert entry["dry_run"] is True and entry["instruction"] == "click 'Styles'"
    # Saved at exit; the y/n/e answers are not in it, the edited line is, a repeated line only once.
    history = (tmp_path / ".local" / "state" / "screenground" / "agent_history").read_text().splitlines()
    assert history == [
        "click Edit", "click Styles", "trace", "press ctrl+s", "click the Frobnicate Quux",
        "type hello", "quit",
    ]


def test_end_of_input_leaves_cleanly(agent):
    agent.expect_exact("> ")
    agent.sendeof()
    agent.expect(pexpect.EOF)
    agent.close()
    assert agent.exitstatus == 0
