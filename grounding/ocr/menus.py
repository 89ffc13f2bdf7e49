"""Menus asked for by what they hold ("the menu with undo, copy and paste" for Edit): a menu's title is one word,
too little for a sentence encoder to place near a list of its items, so a title that names a conventional menu is
also compared by what such a menu holds (`menus.txt`)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "menus.txt"

# "the menu with undo and redo", "the menu for executing cells", "the menu to restart the kernel", "the menu
# controlling what the interface shows": a menu followed by what it holds or does. "the Kernel menu", "the column's
# options menu" and "click Menu" name a menu, they do not describe its contents.
_CONTENTS = re.compile(
    r"\bmenu\s+(?:with|for|to|that|which|where|containing|holding|listing|offering|controlling|of)\s+\w",
    re.IGNORECASE,
)


@functools.cache
def _holdings() -> dict[str, str]:
    """Title (lower case) -> a sentence saying what the menu holds."""
    out: dict[str, str] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        titles, items = line.split("\t")
        names = titles.split("|")
        for title in names:
            out[title.lower()] = f"{names[0]} menu: {items}"
    return out


def asked_by_contents(instruction: str) -> bool:
    """Whether the instruction asks for a menu by what it holds or does."""
    return _CONTENTS.search(instruction) is not None


def holdings(title: str) -> str | None:
    """What a menu of this title usually holds, as a sentence; None for a title that is no conventional menu."""
    return _holdings().get(" ".join(title.split()).lower())
