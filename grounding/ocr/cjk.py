"""Chinese, Japanese and Korean text in instructions and on screen: what differs from spaced Latin text.

CJK text is written without spaces, each character is about as wide as the line is high (two Latin letters), and
Chinese UIs append a keyboard mnemonic to labels ("文件(F)") that nobody says when asking for the control.
"""

from __future__ import annotations

import re
import unicodedata

# A trailing mnemonic after a CJK label: "文件(F)", "替换为 (H):", "编辑（E）".
_MNEMONIC = re.compile(r"(?<=[\u2e80-\u9fff\uf900-\ufaff])\s*[(\uff08]\s*[A-Za-z0-9]\s*[)\uff09]")


def is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F") and char.isalnum()


def has_cjk(text: str) -> bool:
    return any(is_cjk(c) for c in text)


def width(text: str) -> int:
    """The text's width in Latin letters: a CJK character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def drop_mnemonics(text: str) -> str:
    """"文件(F) 编辑(E)" -> "文件 编辑"."""
    return _MNEMONIC.sub("", text)
