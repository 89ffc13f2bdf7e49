"""Parsing the steps a person types for `ground do` and `ground agent`."""

import pytest

from agent.commands import Command, parse, parse_keys
from grounding.errors import InstructionError


@pytest.mark.parametrize(
    "line, expected",
    [
        ("click Apply", Command("click", target="Apply")),
        ("Click on the Save button", Command("click", target="the Save button")),
        ("left-click OK", Command("click", target="OK")),
        ("double-click report.pdf", Command("double_click", target="report.pdf")),
        ("double click on the folder icon", Command("double_click", target="the folder icon")),
        ("right-click the desktop", Command("right_click", target="the desktop")),
        ("Right click Trash", Command("right_click", target="Trash")),
        ("hover Help", Command("hover", target="Help")),
        ("hover over the Help menu", Command("hover", target="the Help menu")),
        ("move the mouse to the clock", Command("hover", target="the clock")),
        ("type 'hello world' into the search box", Command("type", target="the search box", text="hello world")),
        ('type "don\'t panic" in Message', Command("type", target="Message", text="don't panic")),
        ("type 'a  b'", Command("type", text="a  b")),  # typed text keeps its spacing
        ("type “tab\tstops” into Notes", Command("type", target="Notes", text="tab\tstops")),
        ("type '' into Name", Command("type", target="Name", text="")),
        ("press ctrl+s", Command("press", keys=("ctrl", "s"))),
        ("press Ctrl+Shift+T", Command("press", keys=("ctrl", "shift", "t"))),
        ("press Return", Command("press", keys=("enter",))),
        ("press A", Command("press", keys=("A",))),
        ("hit escape", Command("press", keys=("esc",))),
        ("press +", Command("press", keys=("+",))),
        ("press cmd + q", Command("press", keys=("command", "q"))),
        ("scroll down in the file list", Command("scroll", target="the file list", amount=-3)),
        ("scroll up 10", Command("scroll", amount=10)),
        ("scroll down 2 over Preview", Command("scroll", target="Preview", amount=-2)),
        ("drag report.pdf to Trash", Command("drag", target="report.pdf", destination="Trash")),
        ("drag the slider onto the end", Command("drag", target="the slider", destination="the end")),
        # No verb: a plain grounding instruction is a click on what it describes.
        ("open the File menu", Command("click", target="open the File menu")),
        ("Save", Command("click", target="Save")),
    ],
)
def test_parse(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize(
    "line, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("type hello", "quotes"),
        ("scroll sideways", "which way"),
        ("scroll down 0", "0 does nothing"),
        ("drag the file", "where to"),
        ("press ctrl+", "empty key"),
        ("press ctrl+banana", "unknown key 'banana'"),
        ("x" * 3000, "too long"),
    ],
)
def test_bad_steps_say_what_is_wrong(line, message):
    with pytest.raises(InstructionError, match=message):
        parse(line)


def test_keys_for_the_python_api():
    assert parse_keys("F5") == ("f5",)
    assert parse_keys("control+alt+delete") == ("ctrl", "alt", "delete")
    assert parse_keys("pgdn") == ("pagedown",)
    with pytest.raises(InstructionError):
        parse_keys("f25")


def test_describe_reads_back_the_step():
    assert parse("type 'hi' into Name").describe() == "type 'hi' into 'Name'"
    assert parse("scroll down in List").describe() == "scroll down 3 in 'List'"
    assert parse("press ctrl+s").describe() == "press ctrl+s"
    assert parse("drag A to B").describe() == "drag 'A' to 'B'"
    assert parse("double-click X").describe() == "double-click 'X'"


def test_every_verb_of_the_table_parses_plans_and_describes():
    """The verbs table (agent/verbs.py) is what parsing, planning and the executor read: each row round-trips."""
    from agent.desktop import _actions
    from agent.verbs import VERBS
    from grounding.geometry import Point

    examples = {
        "click": "click OK", "double_click": "double-click OK", "right_click": "right-click OK", "hover": "hover OK",
        "type": "type 'hi' into OK", "press": "press ctrl+s", "scroll": "scroll up 2 in OK", "drag": "drag OK to Bin",
    }
    assert set(examples) == set(VERBS)
    for name, line in examples.items():
        command = parse(line)
        assert command.action == name and command.describe().startswith(VERBS[name].spoken)
        points = [Point(10, 20), Point(30, 40)][: 1 + VERBS[name].destination] if command.target else []
        actions = _actions(command, points)
        assert actions[-1].kind == name and actions[-1].to_dict()["kind"] == name
        if VERBS[name].click_first:
            assert [a.kind for a in actions] == ["click", name]
