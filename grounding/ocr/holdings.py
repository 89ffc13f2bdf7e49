"""Menus, tabs and dialog buttons asked for by what they hold or do ("the menu with undo, copy and paste" for Edit,
"the tab for underline and strikethrough" for Font Effects, "dismiss the dialog without applying" for Cancel): their
titles are a word or two, too little for a sentence encoder to place near a list of items or a purpose, so a title
that names a conventional menu (`menus.txt`), tab (`tabs.txt`) or dialog button (`buttons.txt`) is also compared by
what such a one holds or does."""

from __future__ import annotations

import functools
import re
from pathlib import Path

_HERE = Path(__file__).resolve().parent
TABLES = {"menu": _HERE / "menus.txt", "tab": _HERE / "tabs.txt", "button": _HERE / "buttons.txt"}

# "the menu with undo and redo", "the menu for executing cells", "the tab to lock cells", "the sidebar tab listing
# functions": a menu or tab followed by what it holds or does. "the Kernel menu", "the column's options menu" and
# "click Menu" name one; they do not describe what it holds.
_CONTENTS = re.compile(
    r"\b(?P<kind>menu|tab)\s+(?:with|for|to|that|which|where|containing|holding|listing|offering|showing|controlling"
    r"|of)\s+\w",
    re.IGNORECASE,
)


@functools.cache
def _table(kind: str) -> dict[str, str]:
    """Title (lower case) -> a sentence saying what a menu, tab or button of that title holds or does."""
    out: dict[str, str] = {}
    for line in TABLES[kind].read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        titles, items = line.split("\t")
        names = titles.split("|")
        for title in names:
            out[title.lower()] = f"{names[0]} {kind}: {items}"
    return out


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


def of(kind: str, title: str) -> str | None:
    """What a menu, tab or button of this title usually holds or does, as a sentence; None for a title that is no
    conventional one of its kind."""
    return _table(kind).get(" ".join(title.split()).lower())
