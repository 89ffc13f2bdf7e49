"""Which icons of a freedesktop theme the training may use: generic UI icons, never an application's own."""

from __future__ import annotations

from pathlib import Path

from training.icons.sources import _theme, words

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22"><rect width="10" height="10"/></svg>'


def make_theme(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SVG)
    return root


def test_icons_named_after_an_application_are_left_out_with_its_logo(tmp_path):
    theme = make_theme(tmp_path / "Papirus", [
        "22x22/apps/geany.svg", "22x22/apps/go.svg", "22x22/apps/org.inkscape.Inkscape.svg",
        "22x22/actions/geany-build.svg",  # Geany's own toolbar icon, redrawn by the theme
        "22x22/actions/document-save.svg",
        "22x22/actions/go-down.svg",  # "go" names an application too, but it is an English word
        "22x22/actions/zoom-in.svg",
        "22x22/places/folder.svg",
    ])
    (theme / "22x22/actions/document-save-as.svg").symlink_to("document-save.svg")  # an alias is another name
    icons = _theme(theme, "papirus", "22x22/{context}/*.svg", english={"go", "document", "save"}, contexts=("actions",))
    assert sorted(icon.name for icon in icons) == ["document save", "document save as", "go down", "zoom in"]
    assert {icon.library for icon in icons} == {"papirus"}


def test_names_become_words():
    assert words("document-save-as-symbolic") == "document save as"
    assert words("arrowUp") == "arrow up"
    assert words("view-grid-2") == "view grid"
