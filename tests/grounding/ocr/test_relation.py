"""Instructions that find a target by place or order: the parse, and the geometry that picks among boxes."""

from pathlib import Path

import pytest

from grounding.geometry import Box
from grounding.ocr.relation import Relation, beside, between, nth, parse_relation, sequences
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
