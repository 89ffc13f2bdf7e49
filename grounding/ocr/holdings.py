"""Controls asked for by what they hold or do ("the menu with undo, copy and paste" for Edit, "the tab for underline
and strikethrough" for Font Effects, "dismiss the dialog without applying" for Cancel, "end my session" for Log Out):
their labels are a word or two, too little for a sentence encoder to place near a list of items or a purpose, so a
label that names a conventional menu (`menus.txt`), tab (`tabs.txt`), dialog button (`buttons.txt`) or command
(`commands.txt`: menu items, toolbar commands, links, options, column headers) is also compared by what such a one
holds or does."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from rapidfuzz import fuzz

from .cjk import has_cjk

_HERE = Path(__file__).resolve().parent
TABLES = {"menu": _HERE / "menus.txt", "tab": _HERE / "tabs.txt", "button": _HERE / "buttons.txt"}
COMMANDS = _HERE / "commands.txt"

# "the menu with undo and redo", "the menu for executing cells", "the tab to lock cells", "the sidebar tab listing
# functions": a menu or tab followed by what it holds or does. "the Kernel menu", "the column's options menu" and
# "click Menu" name one; they do not describe what it holds.
_CONTENTS = re.compile(
    r"\b(?P<kind>menu|tab)\s+(?:with|for|to|that|which|where|containing|holding|listing|offering|showing|controlling"
    r"|of)\s+\w",
    re.IGNORECASE,
)


def _rows(path: Path) -> Iterator[tuple[list[str], str]]:
    """(the titles a control goes by, what it holds or does) for each line of a table."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            titles, items = line.split("\t")
            yield titles.split("|"), items


@functools.cache
def _table(kind: str) -> dict[str, str]:
    """Title (lower case) -> a sentence saying what a menu, tab or button of that title holds or does."""
    return {title.lower(): f"{names[0]} {kind}: {items}" for names, items in _rows(TABLES[kind]) for title in names}


@functools.cache
def _commands() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(any label, lower case -> the command's usual label; (usual label, saying) for every saying)."""
    names: dict[str, str] = {}
    said: list[tuple[str, str]] = []
    for labels, does in _rows(COMMANDS):
        names.update((label.lower(), labels[0]) for label in labels)
        # The English labels, as the sayings are: a short label in another script lies near unrelated English
        # sentences ("删除行尾空格", Strip Trailing Spaces, is 0.58 from "the bin for deleted files").
        english = [label for label in labels if not has_cjk(label)]
        said += [(labels[0], saying) for saying in [*english, *(d.strip() for d in does.split(";"))] if saying]
    return names, said


# "close the dialog without applying anything", "confirm the changes": a dialog's own buttons asked for by what they
# do. Instructions that say neither ask for no such button (a toolbar's Save is an icon, a page's Next a link).
_DIALOG = re.compile(r"\b(?:dialog|dialogue|window|changes|wizard|question|prompt|message box)\b", re.IGNORECASE)


def asked_by_contents(instruction: str) -> str | None:
    """"menu" or "tab" when the instruction asks for one by what it holds or does, "button" when it asks for a
    dialog's button by what it does, else None."""
    found = _CONTENTS.search(instruction)
    if found:
        return found.group("kind").lower()
    return "button" if _DIALOG.search(instruction) else None


# A label at least this long (letters, spaces aside) may have lost a letter to OCR and still name its command.
_LONG_LABEL = 12


def names(text: str, usual: str) -> bool:
    """Whether a text on screen, as OCR read it, names the conventional command of this usual label: one of its
    labels, spaces and case aside (OCR glues words: "writeUnicode BOM" for Write Unicode BOM), or a long one with a
    letter lost or misread ("Replace Spaces with Tab" for Replace Spaces with Tabs)."""
    key = _squeezed(text)
    return any(
        key == label or (len(label) >= _LONG_LABEL and fuzz.ratio(key, label) >= 95)
        for label in _labels_of().get(usual, ())
    )


def _squeezed(label: str) -> str:
    return "".join(label.split()).lower()


@functools.cache
def _labels_of() -> dict[str, tuple[str, ...]]:
    """A command's usual label -> every label it goes by, squeezed (`_squeezed`)."""
    labels: dict[str, set[str]] = {}
    for name, usual in _commands()[0].items():
        labels.setdefault(usual, set()).add(_squeezed(name))
    return {usual: tuple(sorted(found)) for usual, found in labels.items()}


def sayings() -> list[tuple[str, str]]:
    """(usual label, a saying) for every conventional command: its labels, and the ways users ask for it without
    naming it ("Log Out": "Sign Out", "finish the session and leave the account", ...)."""
    return _commands()[1]


def of(kind: str, title: str) -> str | None:
    """What a menu, tab or button of this title usually holds or does, as a sentence; None for a title that is no
    conventional one of its kind."""
    return _table(kind).get(" ".join(title.split()).lower())
