"""CJK text on screen: mnemonics dropped, widths counted, Chinese labels matched character by character."""

import pytest

from grounding.geometry import Box
from grounding.ocr.cjk import drop_mnemonics, has_cjk, width
from grounding.ocr.match import fits, normalize, similarity


@pytest.mark.parametrize(
    "text, expected",
    [
        ("文件(F)", "文件"),
        ("替换为 (H):", "替换为:"),
        ("编辑（E）", "编辑"),
        ("File (F)", "File (F)"),
        ("A(B)", "A(B)"),
    ],
)
def test_mnemonics_after_cjk_labels_are_dropped(text, expected):
    assert drop_mnemonics(text) == expected


def test_cjk_characters_count_double_in_widths():
    assert width("状态") == 4 and width("Save") == 4 and has_cjk("打开 Save") and not has_cjk("Save")
    # A two-character Chinese tab read at 24 px height is about 48 px wide: it fits the label, as "Save" would.
    assert fits(Box(0, 0, 46, 24), "状态")


def test_a_chinese_label_matches_what_ocr_read_with_its_mnemonic():
    assert similarity(normalize("搜索"), normalize("搜索 (S）")) == 1.0
    assert similarity(normalize("大小写敏感"), normalize("大小写敏惑")) == pytest.approx(0.8)
