"""Instructions that find a target by place or order: the parse, and the geometry that picks among boxes."""

from pathlib import Path

import pytest

from grounding.geometry import Box
from grounding.ocr.relation import (
    Relation,
    belonging,
    beside,
    between,
    nth,
    on_row,
    parse_relation,
    sequences,
    under,
)
from tests.conftest import REPO


@pytest.mark.parametrize(
    "instruction, relation",
    [
        ("the field below Name", Relation("field", "below", "Name")),
        ("the checkbox left of 'Remember me'", Relation("checkbox", "left", "Remember me")),
        ("click the button just right of 'Cancel'", Relation("button", "right", "Cancel")),
        ("the second Save button", Relation("Save button", "order", ordinal=2)),
        ("the last tab of the Character dialog", Relation("tab", "order", ordinal=-1, scope="Character dialog")),
        ("the close button of the Find dialog", Relation("close button", "inside", "Find")),
        ("Click the RMB symbol before 118", Relation("RMB symbol", "before", "118")),
        ("the item between 'Validity' and 'Form'", Relation("item", "between", "Validity", "Form")),
        ("the button right of 'Find' in the Replace dialog", Relation("button", "right", "Find")),
        ("“名称”下方的输入框", Relation("输入框", "below", "名称")),
        ("第二个“保存”按钮", Relation("“保存”按钮", "order", ordinal=2)),
        ("最后一个标签页", Relation("标签页", "order", ordinal=-1)),
        # By what the target belongs to: a labelled control that every item repeats, a thing on an item's row.
        ("Click the “Add to Cart” button for the cat toy", Relation("“Add to Cart” button", "of", "cat toy")),
        ("the Edit link of Grace Hopper", Relation("Edit link", "of", "Grace Hopper")),
        ("the checkbox in the row of config.yaml", Relation("checkbox", "row", "config.yaml")),
        ("the Delete link on the same row as #1042", Relation("Delete link", "row", "#1042")),
        ("the email in the row of Ada", Relation("email", "row", "Ada")),
        # An article makes an action word a name: "the delete button", unlike "delete the row below Total".
        ("the delete button next to report.pdf", Relation("delete button", "after", "report.pdf")),
        ("the 'Save' button right of Cancel", Relation("'Save' button", "right", "Cancel")),
        # A task-style instruction is placed by its act, not by its purpose.
        ("Click the Delete link in the row of Ada to remove her order", Relation("Delete link", "row", "Ada")),
    ],
)
def test_relations_are_parsed(instruction, relation):
    assert parse_relation(instruction) == relation


def _instructions(path: Path) -> list[str]:
    return [line.split("\t")[-1] for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


def test_instructions_that_name_their_target_are_not_relations():
    # Labels and paraphrases that merely contain a place word: "Insert a cell above", "hover over More",
    # "Toggle between normal and color managed modes", "add a cell before this one".
    plain = [
        "click the Insert a cell above button", "hover over More Filters", "Merge Cell Above",
        "tool: toggle between normal and color managed modes", "click the 'Settings' menu in the menu bar",
        "Create a duplicate of this cell below", "Move this cell down", "Pop Selected Objects out of Group",
        # A description before "for" says what a control does, not which of many it is.
        "the plus sign for creating a new buyer", "the sidebar tab for installing plugins", "the icon for bold text",
        "delete the row below Total", "add a cell in the row of Total", "click Search for the file",
        "Combine this cell with the one before it by clicking “Merge Cell Above”",
        *_instructions(REPO / "benchmarks" / "meaning" / "paraphrase.tsv"),
    ]
    assert [i for i in plain if parse_relation(i) is not None] == []


def test_every_relation_of_the_split_is_understood():
    missed = [i for i in _instructions(REPO / "benchmarks" / "meaning" / "relation.tsv") if parse_relation(i) is None]
    assert missed == []


ROW = [Box(10, 10, 60, 30), Box(70, 10, 140, 30), Box(150, 10, 200, 30)]
COLUMN = [Box(10, 50, 120, 70), Box(10, 72, 100, 92), Box(10, 94, 130, 114), Box(300, 72, 380, 92)]


def test_beside_takes_the_nearest_box_on_the_row_or_in_the_column():
    assert beside(ROW[1], ROW, "right") == ROW[2]
    assert beside(ROW[1], ROW, "left") == ROW[0]
    assert beside(COLUMN[0], COLUMN, "below") == COLUMN[1]  # not the box at x=300 on that row
    assert beside(COLUMN[2], COLUMN, "above") == COLUMN[1]
    assert beside(ROW[2], ROW, "right") is None
    # "after" reads like text: along the row first, else down the column.
    assert beside(ROW[0], ROW, "after") == ROW[1]
    assert beside(COLUMN[0], COLUMN, "after") == COLUMN[1]


def test_between_and_order():
    assert between(ROW[0], ROW[2], ROW) == ROW[1]
    assert between(COLUMN[0], COLUMN[2], COLUMN) == COLUMN[1]
    runs = sequences(COLUMN, horizontal=False)
    assert [len(r) for r in runs] == [3]  # the box off to the right is no part of the column
    assert nth(runs[0], 1) == COLUMN[0] and nth(runs[0], -1) == COLUMN[2] and nth(runs[0], 5) is None
    assert sequences(ROW, horizontal=True) == [ROW]


# A grid of two cards (title, then its button below) and a table row (name, then its links far to the right).
CARDS = {"title A": Box(55, 183, 200, 203), "button A": Box(55, 237, 168, 267),
         "title B": Box(339, 183, 420, 203), "button B": Box(339, 237, 452, 267)}
TABLE = {"Ada": Box(200, 620, 300, 640), "Edit 1": Box(438, 620, 468, 640), "Edit 2": Box(438, 657, 468, 677),
         "Alan": Box(200, 657, 300, 677), "header": Box(430, 580, 500, 600)}


def test_belonging_takes_the_anchors_own_card_or_row():
    buttons = [CARDS["button A"], CARDS["button B"]]
    assert belonging(CARDS["title A"], buttons) == CARDS["button A"]
    assert belonging(CARDS["title B"], buttons) == CARDS["button B"]
    edits = [TABLE["Edit 1"], TABLE["Edit 2"]]
    assert belonging(TABLE["Ada"], edits) == TABLE["Edit 1"]
    assert belonging(TABLE["Alan"], edits) == TABLE["Edit 2"]  # its own row, not the one above at the same distance
    # In a list whose items stack name then button, the button just above a name is the previous item's.
    stacked = [Box(10, 40, 90, 60), Box(10, 120, 90, 140)]
    assert belonging(Box(10, 80, 120, 100), stacked) == stacked[1]
    assert belonging(TABLE["Ada"], [TABLE["Ada"]]) is None


def test_on_row_and_under_a_header():
    everything = list(TABLE.values())
    assert on_row(TABLE["Ada"], everything) == [TABLE["Edit 1"]]
    assert on_row(TABLE["Alan"], everything) == [TABLE["Edit 2"]]
    cells = [box for name, box in TABLE.items() if name != "header"]
    assert under(TABLE["header"], cells) == [TABLE["Edit 1"], TABLE["Edit 2"]]
