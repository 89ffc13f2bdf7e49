"""Matching by meaning with the shipped sentence encoders, on real screens (no download, no torch)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import grounding
from grounding.geometry import Box
from grounding.ocr import holdings, meaning
from grounding.ocr.engine import Line
from tests.conftest import REPO, SAMPLES

CN = REPO / "benchmarks" / "meaning" / "cn"
WRITER = SAMPLES / "images" / "libreoffice_writer_linux" / "libreoffice_writer_1920x1080_main.png"


@pytest.fixture(scope="module")
def offline():
    return grounding.load("offline", zoom=False)


def _cn_screen(scene: str) -> tuple[Image.Image, dict]:
    raw = json.loads((CN / "raw" / f"{scene}.json").read_text(encoding="utf-8"))
    return Image.open(CN / "images" / raw["img_filename"]).convert("RGB"), raw


def _writer() -> Image.Image:
    return Image.open(WRITER).convert("RGB")


def _inside(point, box) -> bool:
    x1, y1, x2, y2 = box
    return x1 <= point.x <= x2 and y1 <= point.y <= y2


@pytest.mark.parametrize(
    "scene, instruction, role, name_cn",
    [
        # An English instruction on a Chinese UI: the menu reads 搜索(S), the button 关闭(C).
        ("geany_main", "open the Search menu", "menu", "搜索(S)"),
        ("geany_main", "the Help menu", "menu", "帮助(H)"),
        ("geany_find_dialog", "close the dialog", "push button", "关闭(C)"),
        ("geany_find_dialog", "only find complete words", "check box", "整词配对(W)"),
    ],
)
def test_english_instructions_find_chinese_labels(offline, scene, instruction, role, name_cn):
    image, raw = _cn_screen(scene)
    box = next(e["bbox"] for e in raw["elements"] if e["role"] == role and e["name_cn"] == name_cn)
    found = offline.locate(image, instruction)
    assert found.extra["source"] == "meaning" and _inside(found.point, box), found.extra


def test_a_paraphrase_finds_the_label_it_describes(offline):
    image = Image.open(SAMPLES / "images" / "inkscape_linux" / "inkscape_3840x2160_menu_extensions.png").convert("RGB")
    found = offline.locate(image, "repeat the most recent extension")
    # Whether OCR reads the space in "Previous Extension" differs between CPUs (their ONNX Runtime kernels round
    # differently), so the words are compared without spaces.
    assert found.extra["matched"].replace(" ", "") == "PreviousExtension" and _inside(found.point, (366, 48, 682, 75))


def test_literal_matches_come_first(offline):
    image, _ = _cn_screen("geany_main")
    found = offline.locate(image, "打开帮助菜单")
    assert found.extra["source"] == "text" and found.score >= 0.85
    assert found.score > meaning.CEILING  # no meaning answer can outrank a literal one


def test_scores_are_calibrated_and_capped():
    assert meaning.score_of(meaning.LOW) == 0.0 and meaning.score_of(0.1) == 0.0
    assert meaning.score_of(0.4) < meaning.score_of(0.5) < meaning.score_of(meaning.HIGH) == meaning.CEILING
    assert meaning.score_of(0.99) == meaning.CEILING < 0.85


def _line(text: str, y: float) -> Line:
    step = 10.0
    return Line(text, Box(0, y, step * len(text), y + 20), 0.95, tuple(step * (i + 0.5) for i in range(len(text))))


def test_only_label_sized_texts_are_candidates():
    lines = [_line("Find in Files...", 0), _line("def encode(text):", 30), _line("文件(F)", 60),
             _line("This paragraph is a long sentence of prose that no control would carry as its label", 90)]
    assert [p.text for p in meaning.pieces(lines)] == ["Find in Files", "文件"]


def test_a_made_up_target_is_not_found(offline):
    found = offline.locate(_writer().crop((0, 0, 960, 160)), "click the Frobnicate Quux")
    assert not found.found and found.extra["meaning"][0]["cosine"] < meaning.FLOOR


def test_nothing_on_screen_means_no_reading():
    assert meaning.nearest("open the File menu", [], (100, 100)) == []


def test_meaning_can_be_turned_off(offline):
    image, _ = _cn_screen("geany_main")
    plain = grounding.load("offline", zoom=False, meaning=False)
    assert plain.locate(image, "open the Search menu").extra["source"] == "icon"


def test_the_encoders_need_no_torch_and_no_download():
    # A process of its own: another test may have imported torch into this one. WordLlama's own loader (the
    # `wordllama` package, with requests) asks the hub for a file its wheel holds, so only its files are read.
    code = ("import sys; from grounding.ocr import meaning; meaning.ENCODER.cosines('warm', ['warm up']); "
            "print(sorted({'torch', 'huggingface_hub', 'transformers', 'wordllama', 'requests'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_wordllama_reads_english_from_the_weights_in_its_wheel():
    english = meaning.WordLlama()
    vectors = english.vectors(["Trash", "File Edit View", ""])
    assert vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5) and not vectors[2].any()
    trash, menus = english.cosines("the bin for deleted files", ["Trash", "File Edit View"])
    assert trash > menus + 0.1


def test_the_blend_weighs_both_models_within_latin_script_and_asks_use_alone_across_scripts():
    use, english = meaning.UniversalSentenceEncoder(), meaning.WordLlama()
    blend = meaning.Blend(use, english)
    texts = ["Close", "关闭", "Delete"]
    weight = meaning.Blend.ENGLISH_WEIGHT
    both = (1 - weight) * use.cosines("close the dialog", texts) + weight * english.cosines("close the dialog", texts)
    alone = use.cosines("close the dialog", texts)
    assert np.allclose(blend.cosines("close the dialog", texts), [both[0], alone[1], both[2]])
    # A Chinese instruction is compared by USE alone, with Chinese and English texts alike.
    assert np.allclose(blend.cosines("关闭对话框", texts), use.cosines("关闭对话框", texts))
    assert blend.cosines("close", []).shape == (0,)


@pytest.mark.parametrize("label, word", [("保存", "save"), ("打印", "print"), ("剪切", "cut"), ("关闭", "close")])
def test_a_chinese_label_is_read_in_the_icon_models_english(label, word):
    assert word in meaning.english_words(label)


def test_a_chinese_instruction_finds_an_icon(offline):
    image, raw = _cn_screen("geany_main")
    box = next(e["bbox"] for e in raw["elements"] if e["name_cn"] == "保存")
    found = offline.locate(image, "点击“保存”按钮")
    assert found.extra["source"] == "icon" and "save" in found.extra["words"] and _inside(found.point, box)


def test_a_text_that_echoes_the_instructions_words_is_no_meaning_match():
    # "Move Cell Up" only repeats "move this cell up": the literal matcher already judged it (on the dev set the
    # target is the toolbar icon); "Delete Cell" says "remove the selected cell" in other words.
    lines = [_line("Move Cell Up", 0), _line("Delete Cell", 30)]
    echo = meaning.nearest("move this cell up", lines, (400, 100))
    fresh = meaning.nearest("remove the selected cell", lines, (400, 100))
    assert echo[0].piece.text == "Delete Cell" and [r.cosine for r in echo if r.piece.text == "Move Cell Up"] == [-1.0]
    assert fresh[0].piece.text == "Delete Cell" and fresh[0].cosine > meaning.FLOOR


def test_a_text_that_says_the_opposite_is_no_meaning_match():
    # The encoder puts "Move Cell Down" right next to "move this cell up"; "Raise Cell" says it in other words.
    lines = [_line("Move Cell Down", 0), _line("Raise Cell", 30)]
    found = meaning.nearest("move this cell up", lines, (400, 100))
    assert found[0].piece.text == "Raise Cell" and [r.cosine for r in found if "Down" in r.piece.text] == [-1.0]
    # A place word is no opposite: "in the toolbar" may want "Zoom Out".
    assert meaning.nearest("the zoom button in the toolbar", [_line("Zoom Out", 0)], (400, 100))[0].cosine > 0
    # A text that holds both words of a pair says no opposite.
    assert meaning.nearest("scroll up", [_line("Scroll Up or Down", 0)], (400, 100))[0].cosine > 0


def test_echo_is_blind_to_plurals():
    # "Files" says nothing "refresh the file list" does not: the literal matcher already judged it.
    lines = [_line("Files", 0), _line("Reload", 30)]
    found = meaning.nearest("refresh the file list", lines, (400, 100))
    assert found[0].piece.text == "Reload" and [r.cosine for r in found if r.piece.text == "Files"] == [-1.0]


def test_a_text_sharing_only_stems_with_the_instruction_is_docked_not_dropped():
    # "PUBLISHER" is not "published": the literal matcher could not have found it, so it stays a candidate, a little
    # lower than it would be.
    lines = [_line("PUBLISHER", 0), _line("TITLE", 30), _line("PRICE", 60)]
    found = meaning.nearest("sort by the company that published each book", lines, (400, 100))
    assert found[0].piece.text == "PUBLISHER" and found[0].cosine > 0


def test_a_named_label_is_sought_across_languages_not_among_synonyms():
    # "Compile" names a label; "Build" beside it is another control, 编译 is that label in Chinese. A description
    # still ranks every text, its first word capitalised or not.
    lines = [_line("Build", 0), _line("编译", 30)]
    named = meaning.nearest("Compile", lines, (400, 100))
    assert named[0].piece.text == "编译" and [r.cosine for r in named if r.piece.text == "Build"] == [-1.0]
    for described in ("translate the source code into a program", "Translate the source code into a program"):
        assert all(r.cosine > 0 for r in meaning.nearest(described, lines, (400, 100)))


@pytest.mark.parametrize(
    "instruction, title",
    [
        ("the menu with undo, copy and paste", "Edit"),
        ("the menu with word count and autocorrect options", "Tools"),
        ("the menu to print or export the document", "File"),
        ("the menu with the user guide and about box", "Help"),
    ],
)
def test_a_menu_asked_for_by_what_it_holds_is_found_by_its_title(offline, instruction, title):
    # A one-word title is too little for the encoder to place near a list of items ("Edit" for "undo, copy and
    # paste": 0.24 before), so a conventional menu's title is also compared by what such a menu holds.
    found = offline.locate(_writer(), instruction)
    assert found.extra["source"] == "meaning" and found.extra["matched"] == title, found.extra
    assert found.box is not None and found.box.contains(found.point) and found.point.y < 50  # in the menu bar


def test_a_menu_asked_for_by_what_it_holds_is_found_in_a_chinese_ui(offline):
    image, raw = _cn_screen("geany_main")
    box = next(e["bbox"] for e in raw["elements"] if e["role"] == "menu" and e["name_cn"] == "编辑(E)")
    found = offline.locate(image, "the menu with undo, copy and paste")
    assert found.extra["source"] == "meaning" and _inside(found.point, box), found.extra


def test_a_tab_asked_for_by_what_it_shows_is_found_by_its_title(offline):
    # Geany's message pane in Chinese: 状态 is its Status tab, which shows the editor's messages.
    image, raw = _cn_screen("geany_main")
    box = next(e["bbox"] for e in raw["elements"] if e["role"] == "page tab" and e["name_cn"] == "状态")
    found = offline.locate(image, "the tab for warnings and messages")
    assert found.extra["source"] == "meaning" and _inside(found.point, box), found.extra


def test_a_dialog_button_asked_for_by_what_it_does_is_found_by_its_label(offline):
    # Calc's text import dialog in Chinese: 确定(O) is its OK button; a made-up button of the dialog is no button.
    image, raw = _cn_screen("calc_csv_import")
    box = next(e["bbox"] for e in raw["elements"] if e["role"] == "push button" and e["name_cn"] == "确定(O)")
    found = offline.locate(image, "accept the settings and close the dialog")
    assert found.extra["source"] == "meaning" and _inside(found.point, box), found.extra
    made_up = offline.locate(image, "the dialog's zorblax button").extra
    assert made_up["source"] != "meaning" and made_up["meaning"][0]["cosine"] < meaning.HOLDINGS_FLOOR["button"]


@pytest.mark.parametrize("instruction", ["the menu with zorblax options", "the menu for booking flights"])
def test_made_up_menu_contents_find_no_menu(offline, instruction):
    found = offline.locate(_writer(), instruction)
    assert found.extra["source"] != "meaning" and found.extra["meaning"][0]["cosine"] < meaning.HOLDINGS_FLOOR["menu"]


def test_a_menu_or_tab_followed_by_what_it_holds_or_a_dialog_is_asked_for_by_contents():
    for asked, kind in (("the menu with undo and redo", "menu"), ("the menu for executing cells", "menu"),
                        ("The menu to restart the kernel", "menu"), ("the sidebar tab listing functions", "tab"),
                        ("the tab for underline and strikethrough", "tab")):
        assert holdings.asked_by_contents(asked) == kind, asked
    for named in ("open the Kernel menu", "click Menu", "the column's options menu", "the menu", "menu with",
                  "switch to the Status tab"):
        assert holdings.asked_by_contents(named) is None, named
    assert holdings.asked_by_contents("close the dialog without saving") == "button"
    assert "undo" in holdings.of("menu", " edit ") and holdings.of("menu", "编辑") == holdings.of("menu", "Edit")
    assert holdings.of("menu", "Frobnicate") is None and holdings.of("tab", "Edit") is None


def test_a_text_set_in_capitals_is_read_as_words_and_shown_as_written():
    # "LAST NAME" as a style sets it: read as "last name" it is the nearest to "surname" (0.45, against 0.28 in
    # capitals, where "Genres" came first); an acronym stays as written ("CSV" is nearer comma-separated values so).
    lines = [_line("LAST NAME", 0), _line("Genres", 30)]
    found = meaning.nearest("sort users by surname", lines, (400, 100))
    assert found[0].piece.text == "LAST NAME" and found[0].cosine > 0.4
    assert meaning.nearest("export the rows as comma-separated values", [_line("CSV", 0)], (400, 100))[0].cosine > 0.25


def test_a_sorting_instruction_finds_the_header_of_what_it_sorts_by():
    lines = [_line("Bookshop administration", 0), _line("TITLE", 30), _line("AUTHOR", 60), _line("PRICE", 90)]
    found = meaning.nearest("sort the books by cost", lines, (400, 200))
    assert found[0].piece.text == "PRICE" and found[0].cosine > meaning.LATIN_FLOOR
    assert meaning.sort_key("Sort users by surname.") == "surname" and meaning.sort_key("order by date") == "date"
    assert meaning.sort_key("see the change log of this order") is None
    assert meaning.sort_key("click the order button by the door") is None


@pytest.mark.parametrize(
    "image, instruction, box, label",
    [
        # A conventional command's label is a word or two; it is found by what users say it does.
        (SAMPLES / "images" / "django_admin_web" / "order_change.png", "store this order and start a fresh one",
         (847, 2108, 1176, 2160), "Save and add another"),
        (SAMPLES / "images" / "jupyterlab_web" / "notebook_file_menu.png", "open a file by typing its location",
         (68, 174, 791, 222), "Open from Path"),
    ],
)
def test_a_command_described_by_what_it_does_is_found_by_its_label(offline, image, instruction, box, label):
    found = offline.locate(Image.open(image).convert("RGB"), instruction)
    assert found.extra["source"] == "meaning" and found.extra["matched"] == label, found.extra
    assert found.extra["meaning"][0]["said_as"] and _inside(found.point, box)


def test_a_saying_counts_only_for_a_command_the_instruction_means_most():
    # "Markdown" turns a cell into text, so its sayings speak of cells; "move this cell down" means Move Cell Down,
    # and Markdown keeps its own, lower, cosine.
    lines = [_line("Markdown", 0), _line("Log Out", 30)]
    moved = {r.piece.text: r for r in meaning.nearest("move this cell down", lines, (400, 100))}
    assert moved["Markdown"].said_as is None
    left = meaning.nearest("finish my session and leave the site", lines, (400, 100))[0]
    assert left.piece.text == "Log Out" and left.said_as and left.cosine > meaning.LATIN_FLOOR
    assert [m.label for m in meaning.commands_meant("move this cell down", 1)] == ["Move Cell Down"]


def test_a_saying_counts_only_for_a_command_meant_nearly_as_much_as_the_nearest():
    # "insert a picture" means Image; Hyperlink's saying "Insert Link" shares its verb, yet the link is no answer.
    meant = meaning.commands_meant("insert a picture", meaning.MEANT)
    assert meant[0].label == "Image" and "Hyperlink" in [m.label for m in meant]
    found = meaning.nearest("insert a picture", [_line("Hyperlink", 0)], (400, 100))[0]
    assert found.said_as is None and found.cosine < meaning.LATIN_FLOOR


def test_the_command_table_is_well_formed():
    labels = [label.lower() for names, _ in holdings._rows(holdings.COMMANDS) for label in names]
    assert len(labels) == len(set(labels)) and len(labels) > 1000  # each label names one command
    assert holdings.names(" sign  OUT ", "Log Out") and holdings.names("注销", "Log Out")
    assert not holdings.names("Frobnicate", "Log Out") and not holdings.names("Log Out", "Frobnicate")
    said = holdings.sayings()
    assert ("Log Out", "Sign Out") in said and not any(meaning.has_cjk(saying) for _, saying in said)


def test_a_command_is_known_by_its_label_as_ocr_reads_it():
    # OCR glues words and drops a last letter; a long label still names its command, a short or another one not.
    assert holdings.names("writeUnicode BOM", "Write Unicode BOM")
    assert holdings.names("Replace Spaces with Tab", "Replace Spaces with Tabs")
    assert not holdings.names("Replace Tabs with Spaces", "Replace Spaces with Tabs")
    assert not holdings.names("BO", "Write Unicode BOM") and not holdings.names("Zoom Out", "Zoom In")
    lines = [_line("Replace Tabs with Spaces", 0), _line("Replace Spaces with Tab", 30)]
    found = meaning.nearest("turn runs of blanks into tab characters", lines, (400, 100))[0]
    assert found.piece.text == "Replace Spaces with Tab" and found.said_as


def test_links_set_on_one_line_between_separators_are_pieces_of_their_own():
    # Django admin's header reads as one line; "/" alone between its links would otherwise make it look like code.
    lines = [_line("WELCOME, ADA. VIEW SITE / CHANGE PASSWORD / LOG OUT", 0), _line("Home › Users", 30)]
    texts = [p.text for p in meaning.pieces(lines)]
    assert texts == [
        "WELCOME, ADA. VIEW SITE", "WELCOME, ADA", "VIEW SITE", "CHANGE PASSWORD", "LOG OUT", "Home", "Users"
    ]
    log_out = next(p for p in meaning.pieces(lines) if p.text == "LOG OUT")
    assert log_out.box.x1 == pytest.approx(10.0 * len("WELCOME, ADA. VIEW SITE / CHANGE PASSWORD / "), abs=10)
    found = meaning.nearest("sign out of the admin site", lines, (600, 100))[0]
    assert found.piece.text == "LOG OUT" and found.said_as
    # A greeting and a link read as one line: the link after the greeting's full stop is a piece too.
    assert meaning.nearest("go to the public website", lines, (600, 100))[0].piece.text == "VIEW SITE"


def test_a_table_of_sayings_is_embedded_once_and_read_back_by_later_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(meaning, "_table_cache", lambda: tmp_path)
    texts = ["finish the session and leave the account", "a blank document"]
    first = meaning.UniversalSentenceEncoder().table(texts)
    assert len(list(tmp_path.glob("*.npy"))) == 1 and first.shape == (2, 512)
    later = meaning.UniversalSentenceEncoder()  # a new process's: it must not need the model for a table on disk

    def no_model():
        raise AssertionError("embedded again")

    monkeypatch.setattr(later, "_load", no_model)
    assert np.array_equal(later.table(texts), first)
    with pytest.raises(AssertionError, match="embedded again"):
        later.table([*texts, "another saying"])  # other texts: another key
