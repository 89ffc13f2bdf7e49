"""The applications harvested for real icons, how to start each, and the ones never to harvest.

Never the benchmarks' applications (EXCLUDED): the dev set and the team's held-out set photograph them, so their
icons in training would measure memory, not generalisation. tests/training/icons/test_harvest_apps.py fails when one
appears here. Some applications are held out of training altogether (`held_out`): their screenshots form the
validation split that measures unseen applications.

Arguments may name `{docs}` (sample documents written by `write_documents`) and `{home}` (the fresh home directory).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

# The applications of both benchmarks (issue 17), as names, executables and package names may spell them.
EXCLUDED = (
    "libreoffice", "soffice", "lowriter", "localc", "loimpress", "lodraw", "lomath", "lobase", "inkscape", "gimp",
    "gnumeric", "geany", "thunar", "freecad", "jupyterlab", "jupyter-lab", "jupyter notebook", "jupyter-notebook",
    "notebook", "vs code", "vscode", "code-server", "visual studio code", "mlflow", "tensorboard", "datasette",
    "django", "streamlit", "node-red", "nodered",
)


@dataclass(frozen=True)
class App:
    name: str  # short, unique; the AT-SPI application name need not match
    toolkit: str  # gtk3, gtk2, qt5, wx, web
    packages: tuple[str, ...]  # where it comes from: "debian:NAME", "pypi:NAME", "npm:NAME"
    argv: tuple[str, ...] = ()  # desktop: the command; web: the server command (empty for static pages)
    url: str = ""  # web: the page to open (`{port}` for the server's port, `{static}` for harvest/web/)
    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[tuple[str, ...], ...] = ()  # commands run in the fresh home before the start (gsettings, ...)
    keys: tuple[tuple[str, ...], ...] = ()  # xdotool commands after the window is sized (to change its state)
    window_class: str = ""  # X11 class to find its window by when the started process is a launcher
    held_out: bool = False

    @property
    def words(self) -> str:
        """Everything that names the application, for the exclusion check."""
        return " ".join([self.name, *self.packages, *self.argv, self.url, self.window_class]).lower()


def excluded(app: App) -> str | None:
    """The benchmark application `app` is (or runs), if any: an EXCLUDED name as a word of its names, packages,
    command or address."""
    words = re.sub(r"[^a-z0-9]+", " ", app.words)
    return next((name for name in EXCLUDED if re.search(rf"\b{re.escape(re.sub(r'[^a-z0-9]+', ' ', name))}\b", words)),
                None)


def _gsettings(schema: str, key: str, value: str) -> tuple[str, ...]:
    return ("gsettings", "set", schema, key, value)


TYPE_SELECT = (("type", "--delay", "20", "The quick brown fox"), ("key", "ctrl+a"))
GTK2 = {"GTK_MODULES": "gail:atk-bridge"}  # GTK 2 publishes its tree only through these modules
# Pages of the static web applications (training/icons/harvest/pages/, copied into the web folder).
PAGE = "http://127.0.0.1:{port}/pages/"
STATIC = "http://127.0.0.1:{port}/"

APPS = (
    # GTK 3
    App("mousepad", "gtk3", ("debian:mousepad",), ("mousepad", "{docs}/notes.txt"), keys=TYPE_SELECT,
        setup=(_gsettings("org.xfce.mousepad.preferences.window", "toolbar-visible", "true"),)),
    App("pluma", "gtk3", ("debian:pluma",), ("pluma", "{docs}/script.py"), keys=TYPE_SELECT, held_out=True),
    App("abiword", "gtk3", ("debian:abiword",), ("abiword", "{docs}/notes.txt"), keys=TYPE_SELECT),
    App("xournalpp", "gtk3", ("debian:xournalpp",), ("xournalpp",)),
    App("evince", "gtk3", ("debian:evince",), ("evince", "{docs}/report.pdf")),
    App("eog", "gtk3", ("debian:eog",), ("eog", "{docs}/photo.png")),
    App("ristretto", "gtk3", ("debian:ristretto",), ("ristretto", "{docs}/photo.png"), held_out=True),
    App("file-roller", "gtk3", ("debian:file-roller",), ("file-roller",)),
    App("meld", "gtk3", ("debian:meld",), ("meld", "{docs}/notes.txt", "{docs}/notes2.txt")),
    App("gthumb", "gtk3", ("debian:gthumb",), ("gthumb", "{docs}")),
    App("parole", "gtk3", ("debian:parole",), ("parole",)),
    App("bluefish", "gtk3", ("debian:bluefish",), ("bluefish", "{docs}/page.html"), keys=TYPE_SELECT),
    App("transmission", "gtk3", ("debian:transmission-gtk",), ("transmission-gtk",)),
    App("gucharmap", "gtk3", ("debian:gucharmap",), ("gucharmap",)),
    App("cherrytree", "gtk3", ("debian:cherrytree",), ("cherrytree",), held_out=True),
    App("dconf-editor", "gtk3", ("debian:dconf-editor",), ("dconf-editor",)),
    # GTK 2
    App("pcmanfm", "gtk2", ("debian:pcmanfm",), ("pcmanfm", "{docs}"), env=GTK2),
    App("dia", "gtk2", ("debian:dia",), ("dia",), env=GTK2),
    App("gpicview", "gtk2", ("debian:gpicview",), ("gpicview", "{docs}/photo.png"), env=GTK2),
    # Qt 5
    App("featherpad", "qt5", ("debian:featherpad",), ("featherpad", "{docs}/notes.txt"), keys=TYPE_SELECT),
    App("qpdfview", "qt5", ("debian:qpdfview",), ("qpdfview", "{docs}/report.pdf")),
    App("lximage-qt", "qt5", ("debian:lximage-qt",), ("lximage-qt", "{docs}/photo.png")),
    App("pcmanfm-qt", "qt5", ("debian:pcmanfm-qt",), ("pcmanfm-qt", "{docs}")),
    App("kolourpaint", "qt5", ("debian:kolourpaint",), ("kolourpaint", "{docs}/photo.png"), held_out=True),
    App("sqlitebrowser", "qt5", ("debian:sqlitebrowser",), ("sqlitebrowser", "{docs}/shop.sqlite"), held_out=True),
    App("texstudio", "qt5", ("debian:texstudio",), ("texstudio", "{docs}/paper.tex")),
    App("smplayer", "qt5", ("debian:smplayer",), ("smplayer",)),
    App("keepassxc", "qt5", ("debian:keepassxc",), ("keepassxc",)),
    App("retext", "qt5", ("debian:retext",), ("retext", "{docs}/readme.md"), keys=TYPE_SELECT),
    # Web: npm packages on host pages of ours, PyPI applications on their own servers
    App("tinymce", "web", ("npm:tinymce",), url=PAGE + "tinymce.html"),
    App("quill", "web", ("npm:quill",), url=PAGE + "quill.html", held_out=True),
    App("trix", "web", ("npm:trix",), url=PAGE + "trix.html"),
    App("ckeditor5", "web", ("npm:ckeditor5",), url=PAGE + "ckeditor.html"),
    App("summernote", "web", ("npm:summernote", "npm:jquery"), url=PAGE + "summernote.html"),
    App("jsoneditor", "web", ("npm:jsoneditor",), url=PAGE + "jsoneditor.html"),
    App("media-players", "web", ("npm:plyr", "npm:video.js"), url=PAGE + "players.html"),
    App("adminlte", "web", ("npm:admin-lte",), url=STATIC + "node_modules/admin-lte/index.html"),
    App("tiddlywiki", "web", ("npm:tiddlywiki",),
        ("node", "{web}/node_modules/tiddlywiki/tiddlywiki.js", "{web}/wiki", "--listen", "port={port}",
         "host=127.0.0.1"), url=STATIC),
    App("bokeh", "web", ("pypi:bokeh",), url=STATIC + "bokeh.html"),
    App("plotly", "web", ("pypi:plotly",), url=STATIC + "plotly.html", held_out=True),
    App("mkdocs-material", "web", ("pypi:mkdocs-material",), url=STATIC + "mkdocs/site/index.html"),
    App("optuna-dashboard", "web", ("pypi:optuna-dashboard",),
        ("{bin}/optuna-dashboard", "sqlite:///{web}/optuna.db", "--host", "127.0.0.1", "--port", "{port}"),
        url=STATIC + "dashboard/", held_out=True),
    App("gradio", "web", ("pypi:gradio",), ("{python}", "{web}/pages/gradio_app.py", "{port}"), url=STATIC,
        env={"GRADIO_ANALYTICS_ENABLED": "False"}),
    App("locust", "web", ("pypi:locust",),
        ("{python}", "-m", "locust", "-f", "{web}/locustfile.py", "--web-host", "127.0.0.1", "--web-port", "{port}",
         "-H", "http://127.0.0.1:{port}"), url=STATIC),
)
NPM_PACKAGES = ("tinymce@7", "quill@2", "trix@2", "ckeditor5@43", "summernote@0.9", "jquery@3",
                "jsoneditor@10", "plyr@3", "video.js@8", "admin-lte@3", "tiddlywiki@5")
PYPI_PACKAGES = ("bokeh", "plotly", "optuna-dashboard", "gradio", "locust", "mkdocs-material")


def write_documents(folder: Path) -> None:
    """The sample files applications open, so viewers and editors show their working toolbars."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Meeting notes", "", "- ship the release", "- review the budget", "- plan the offsite", ""]
    (folder / "notes.txt").write_text("\n".join(lines))
    (folder / "notes2.txt").write_text("\n".join(lines[:3] + ["- review the new budget"] + lines[4:]))
    (folder / "script.py").write_text("import sys\n\n\ndef main():\n    print('hello', sys.argv)\n\n\nmain()\n")
    (folder / "readme.md").write_text("# Project\n\nSome *notes* about the **project**.\n\n- one\n- two\n")
    (folder / "page.html").write_text("<!doctype html><html><body><h1>Title</h1><p>Text.</p></body></html>\n")
    (folder / "paper.tex").write_text("\\documentclass{article}\n\\begin{document}\nHello.\n\\end{document}\n")
    image = Image.new("RGB", (640, 420), (70, 130, 180))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 100, 440, 340), fill=(250, 200, 60))
    draw.rectangle((0, 330, 640, 420), fill=(60, 140, 70))
    image.save(folder / "photo.png")
    pages = [Image.new("RGB", (850, 1100), "white") for _ in range(3)]
    for number, page in enumerate(pages, 1):
        ImageDraw.Draw(page).text((80, 80), f"Quarterly report, page {number}", fill="black")
    pages[0].save(folder / "report.pdf", save_all=True, append_images=pages[1:])
    database = folder / "shop.sqlite"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as connection:
        connection.execute("create table customers (id integer primary key, name text, city text)")
        connection.executemany("insert into customers (name, city) values (?, ?)",
                               [("Ada", "London"), ("Grace", "New York"), ("Linus", "Helsinki")])
