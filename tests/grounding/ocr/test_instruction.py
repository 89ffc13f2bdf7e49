"""Instruction parsing: the phrasings of the ScreenSpot-style sets reduce to the label, the role and the area."""

import pytest

from grounding.ocr.instruction import parse


@pytest.mark.parametrize(
    "instruction, target, role, area",
    [
        ("open the File menu", "File", "menu", None),
        ("click the 'Save' button", "Save", "button", None),
        ("click 'Insert Chart'", "Insert Chart", None, None),
        ("the New icon", "New", "icon", None),
        ("click the . button", ".", "button", None),  # a calculator's decimal point: punctuation is the label
        ("Go to streamlit.io", "streamlit.io", None, None),
        ("press the Main menu icon", "Main menu", "icon", None),
        ("pick 'Zoom In' in the open menu", "Zoom In", None, "open menu"),
        ("choose Create a copy from the menu", "Create a copy", None, "open menu"),
        ("click the 'Tabs' menu in the menu bar", "Tabs", "menu", "menu bar"),
        ("click 'Edit' in the menu bar", "Edit", None, "menu bar"),
        ("open the 'Mask' submenu", "Mask", "submenu", None),
        ("select the menu entry 'Find in Files'", "Find in Files", "menu item", None),
        ("select the menu item Open from Path…", "Open from Path…", "menu item", None),
        ("click the link 'python_packages'", "python_packages", "link", None),
        ("open the Groups link", "Groups", "link", None),
        ('Go to "home"', "home", None, None),
        ("navigate to New York City rideshare dataset", "New York City rideshare dataset", None, None),
        ("switch to the server.py tab", "server.py", "tab", None),
        ("encoder.py tab", "encoder.py", "tab", None),
        ("sort by the 'Property' column", "Property", "column", None),
        ("Size column", "Size", "column", None),
        ("tick the Use escape sequences checkbox", "Use escape sequences", "checkbox", None),
        ("switch Use regular expressions on or off", "Use regular expressions", None, None),
        ("hover over Arrange", "Arrange", None, None),
        ("press Try it now", "Try it now", None, None),
        ("the Family box", "Family", "input", None),
        ("click the Search for combo box", "Search for", "dropdown", None),
        ("choose the Trash entry", "Trash", "item", None),
        ('click the "Mode: Command" button', "Mode: Command", "button", None),
        ("Deploy", "Deploy", None, None),
        ("please click the OK button in the bottom right corner", "OK", "button", "bottom right"),
        ("click Settings in the left panel", "Settings", None, "left"),
        ("Don't save", "Don't save", None, None),
        ('tick the "Select file "README.md"" checkbox', "README.md", "checkbox", None),
        ("toggle 'Select directory \"src\"'", "src", None, None),
        ("turn on the Wrap lines switch", "Wrap lines", "switch", None),
    ],
)
def test_parse(instruction, target, role, area):
    query = parse(instruction)
    assert (query.target, query.role, query.area) == (target, role, area)


@pytest.mark.parametrize(
    "instruction, target, area",
    [
        ("Click Delete to remove this order", "Delete", None),
        ("Press PRICE so that you can sort the books by cost", "PRICE", None),
        ("click Add to Cart in order to buy the toy", "Add to Cart", None),
        ("To jump back to the earlier bookmark, click Go to Previous Marker", "Go to Previous Marker", None),
        ("Sort by the company that published each book by clicking PUBLISHER", "PUBLISHER", None),
        ("I want to see the change log of this order: click HISTORY", "HISTORY", None),
        ("I want to open the File menu", "File", None),
        ("Find Edit (the menu with undo and redo) and click it", "Edit", None),
        ("Click Tabs, the menu for switching between open documents", "Tabs", None),
        ("Click on Home - the start page", "Home", None),
        ("Click on Settings (gear icon)", "Settings", None),
        ("In the toolbar, click Bold", "Bold", "top"),
        # Not task frames: a label with "to" in it, a purpose that is all the instruction says, an aside in a label.
        ("Click Go to Line...", "Go to Line", None),
        ("click the icon to add another customer", "icon to add another customer", None),
        ("Click to expand", "to expand", None),
        ("jump to a specific line number", "specific line number", None),
        ('click the "Python 3 (ipykernel)" button', "Python 3 (ipykernel)", None),
    ],
)
def test_task_style_instructions_are_read_for_their_act(instruction, target, area):
    query = parse(instruction)
    assert (query.target, query.area) == (target, area)


def test_a_label_that_reads_like_a_purpose_survives_in_the_whole_reading():
    instruction = "click into the Start typing to filter… box"
    assert parse(instruction).target == "Start typing"
    assert (parse(instruction, whole=True).target, parse(instruction, whole=True).role) == (
        "Start typing to filter…", "input")


def test_quotes_mark_the_exact_label():
    assert parse("click 'Insert Chart'").quoted
    assert not parse("click Insert Chart").quoted
    # An apostrophe inside a word is not a quote.
    assert parse("click the Don't Save button").target == "Don't Save"


def test_text_shown_inside_a_field_is_not_its_caption():
    assert parse("Focus the input showing 'Walden'").shown_inside
    assert parse("focus the input showing Search settings…").target == "Search settings…"
    assert not parse("focus the Format Code input").shown_inside


def test_a_bare_verb_is_kept_as_the_label():
    # "Search" and "Close" are both command words and common labels.
    assert parse("Search").target == "Search"
    assert parse("Close").target == "Close"


@pytest.mark.parametrize(
    "instruction, target, role, area",
    [
        # Chinese: quotes inside unspaced text (the Geany status tab of the issue), every CJK quote pair.
        ("打开“状态”标签页", "状态", "tab", None),
        ("点击“替换”", "替换", None, None),
        ("选择「全部替换」", "全部替换", None, None),
        ("点击『保存』按钮", "保存", "button", None),
        ("打开《帮助》菜单", "帮助", "menu", None),
        # Unquoted: verbs in front and role nouns behind go, an area phrase becomes the area.
        ("打开搜索菜单", "搜索", "menu", None),
        ("请点击保存按钮", "保存", "button", None),
        ("切换到状态标签页", "状态", "tab", None),
        ("点击菜单栏中的文件菜单", "文件", "menu", "menu bar"),
        ("勾选使用正则表达式复选框", "使用正则表达式", "checkbox", None),
        # A Latin label in Chinese wording, and CJK quotes in English wording.
        ("点击 Save 按钮", "Save", "button", None),
        ("open the \u201cSearch\u201d menu", "Search", "menu", None),
    ],
)
def test_parse_cjk(instruction, target, role, area):
    query = parse(instruction)
    assert (query.target, query.role, query.area) == (target, role, area)


def test_an_apostrophe_is_not_a_closing_quote():
    assert parse("Don\u2019t save").target == "Don\u2019t save"
