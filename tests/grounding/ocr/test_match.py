"""Matching and ranking on hand-built OCR lines: what wins between equally or almost equally good readings."""

import pytest

from grounding.geometry import Box
from grounding.ocr.engine import Line
from grounding.ocr.instruction import parse
from grounding.ocr.match import candidates, fits, normalize, rows, similarity
from grounding.ocr.rank import click_point, rank

SCREEN = (1920, 1080)


def line(text: str, x: float, y: float, char: float = 8.0, height: float = 20.0, confidence: float = 0.95) -> Line:
    """A line as the recogniser reports it: evenly spaced characters starting at x."""
    centers = tuple(x + char * (i + 0.5) for i in range(len(text)))
    return Line(text, Box(x, y, x + char * len(text), y + height), confidence, centers)


def best(instruction: str, lines: list[Line]):
    query = parse(instruction)
    ranked = rank(query, candidates(query.target, lines), SCREEN)
    return ranked[0] if ranked else None


def test_normalize_ignores_case_punctuation_and_ellipses():
    assert normalize("Find in Files…") == normalize("find in files...") == "find in files"
    assert normalize("python_packages") == "python packages"


def test_similarity_tolerates_split_and_merged_words():
    assert similarity("jessyink", "jessy ink") == 1.0 or similarity("jessyink", "jessy ink") > 0.9
    assert similarity("file", "file") == 1.0
    assert similarity("file", "help") < 0.5


def test_exact_whole_line_beats_the_same_word_inside_a_longer_line():
    lines = [line("Text Box and Shape", 100, 300), line("Text", 100, 500)]
    assert best("go to Text", lines).candidate.box.y1 == 500


def test_multi_word_span_is_boxed_on_its_own_words():
    found = best("click 'Insert Chart'", [line("Undo Insert Chart Redo", 0, 0)])
    assert found.candidate.text == "Insert Chart"
    assert found.candidate.box.x1 == pytest.approx(5 * 8.0, abs=4)
    assert found.candidate.box.x2 == pytest.approx(17 * 8.0, abs=4)


def test_word_glued_to_its_neighbour_is_found_inside_it():
    # The recogniser dropped the narrow space of a menu bar: "FileEdit View".
    found = best("open the File menu", [line("FileEdit View", 0, 5)])
    assert found.candidate.text == "File"
    assert found.candidate.box.x2 <= 4 * 8.0 + 4
    assert 0.6 < found.score < 1.0  # found, but less sure than a word of its own


def test_a_short_line_inside_a_long_target_is_not_a_glued_match():
    # Inkscape's tooltips as instructions: a stray "R" or the word "Fill" must not stand for the whole description.
    lines = [line("R:", 0, 5), line("Fill:", 200, 5), line("a,", 400, 5)]
    for instruction in ("tool: erase objects or paths", "click the icon that will fill is solid unless a subpath is "
                        "counterdirectional", "Expand Formula Bar"):
        found = best(instruction, lines)
        assert found is None or found.score < 0.5, (instruction, found)
    cut_short = best('press "What parameters differ between runs?"', [line("What parameters differ", 0, 300), *lines])
    assert cut_short.candidate.box.y1 == 300 and cut_short.score > 0.8


def test_label_cut_into_two_boxes_is_joined():
    lines = [line("Previous Extension", 100, 200), line("Settings...", 100 + 18 * 8 + 6, 200)]
    assert len(rows(lines)) == 1
    found = best("click 'Previous Extension Settings...'", lines)
    assert found.candidate.similarity == 1.0
    assert found.candidate.box.x2 > 100 + 18 * 8 + 6


def test_lines_on_different_rows_are_not_joined():
    assert len(rows([line("File", 0, 0), line("Edit", 0, 100)])) == 2


def test_menu_bar_and_open_menu_hints_break_ties():
    lines = [line("Text", 300, 10), line("Text", 320, 400)]
    assert best("open the Text menu", lines).candidate.box.y1 == 10
    assert best("pick 'Text' in the open menu", lines).candidate.box.y1 == 400
    assert best("choose Text from the menu", lines).candidate.box.y1 == 400


def test_position_hint_picks_the_corner():
    lines = [line("OK", 100, 100), line("OK", 1800, 1000)]
    assert best("click OK in the bottom right corner", lines).candidate.box.x1 == 1800
    assert best("click OK at the top left", lines).candidate.box.x1 == 100


def test_caption_is_not_a_tab():
    lines = [line("Fill:", 100, 600), line("Fill", 900, 100)]
    assert best("go to the Fill tab", lines).candidate.box.x1 == 900


def test_case_and_punctuation_break_ties():
    lines = [line("DELETE?", 100, 100), line("Delete", 100, 900)]
    assert best("navigate to 'Delete'", lines).candidate.text == "Delete"


def test_field_named_by_its_caption_is_clicked_right_of_the_caption():
    caption = line("Family:", 600, 340)
    found = best("the Family box", [caption])
    point = click_point(parse("the Family box"), found.candidate, SCREEN)
    assert point.x > caption.box.x2
    assert caption.box.y1 <= point.y <= caption.box.y2
    # Text shown inside a field is clicked where it is.
    shown = line("Walden", 600, 340)
    query = parse("Focus the input showing 'Walden'")
    assert click_point(query, best("Focus the input showing 'Walden'", [shown]).candidate, SCREEN) == shown.box.center


def test_no_resemblance_scores_low():
    found = best("click the Frobnicate button", [line("File", 0, 0), line("Help", 50, 0)])
    assert found is None or found.score < 0.5


def test_fits_follows_label_length():
    box = Box(0, 0, 4 * 0.36 * 20, 20)  # four characters at the typical width
    assert fits(box, "File")
    assert not fits(box, "Replace Tabs with Spaces")
    assert not fits(Box(0, 0, 400, 20), "OK")
