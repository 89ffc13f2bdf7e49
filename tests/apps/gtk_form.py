"""A GTK3 window (run it with a Python that has PyGObject: Debian's /usr/bin/python3 with python3-gi) that reports on
stdout which of its controls received what. Used by the accessibility tests: the tree names every control here
except "Launch", which is drawn on a canvas (a custom control only vision can find).

    clicked LABEL | toggled LABEL on|off | tab LABEL | menu LABEL | typed TEXT | custom Launch | ready
Usage: /usr/bin/python3 gtk_form.py [--title TITLE] [--at X Y]
"""

import argparse

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def report(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", default="screenground GTK form")
    parser.add_argument("--at", nargs=2, type=int, default=(40, 30), metavar=("X", "Y"))
    args = parser.parse_args()

    window = Gtk.Window(title=args.title)
    window.move(*args.at)
    window.connect("destroy", Gtk.main_quit)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
    window.add(box)

    menubar = Gtk.MenuBar()
    for title, items in (("File", ("Open", "Quit")), ("Edit", ("Preferences",))):
        top = Gtk.MenuItem(label=title)
        menu = Gtk.Menu()
        for item in items:
            entry = Gtk.MenuItem(label=item)
            entry.connect("activate", lambda _w, i=item: report(f"menu {i}"))
            menu.append(entry)
        top.set_submenu(menu)
        menubar.append(top)
    box.pack_start(menubar, False, False, 0)

    toolbar = Gtk.Toolbar()
    toolbar.set_style(Gtk.ToolbarStyle.ICONS)  # icon-only buttons: their names live only in the tree
    for icon, name in (("format-text-bold", "Bold"), ("format-text-italic", "Italic")):
        tool = Gtk.ToolButton(icon_name=icon, label=name)
        tool.set_tooltip_text(name)
        tool.connect("clicked", lambda _w, n=name: report(f"clicked {n}"))
        toolbar.insert(tool, -1)
    box.pack_start(toolbar, False, False, 0)

    notebook = Gtk.Notebook()
    for tab in ("General", "Advanced"):
        page = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=4)
        for label in (("Wrap lines", "Show hidden files") if tab == "General" else ("Use proxy",)):
            check = Gtk.CheckButton(label=label)
            check.connect("toggled", lambda w, l=label: report(f"toggled {l} {'on' if w.get_active() else 'off'}"))
            page.pack_start(check, False, False, 0)
        notebook.append_page(page, Gtk.Label(label=tab))
    notebook.connect("switch-page", lambda _n, page, _i: report(f"tab {notebook.get_tab_label_text(page)}"))
    box.pack_start(notebook, False, False, 0)

    entry = Gtk.Entry()
    entry.set_placeholder_text("Search")
    entry.get_accessible().set_name("Search")
    entry.connect("activate", lambda w: report(f"typed {w.get_text()}"))
    box.pack_start(entry, False, False, 0)

    canvas = Gtk.DrawingArea()
    canvas.set_size_request(160, 40)
    canvas.add_events(1 << 8)  # GDK_BUTTON_PRESS_MASK

    def draw(_widget, cr) -> None:
        cr.set_source_rgb(0.85, 0.85, 0.85)
        cr.rectangle(0, 0, 160, 40)
        cr.fill()
        cr.set_source_rgb(0, 0, 0)
        cr.select_font_face("DejaVu Sans")
        cr.set_font_size(20)
        cr.move_to(36, 28)
        cr.show_text("Launch")

    canvas.connect("draw", draw)
    canvas.connect("button-press-event", lambda *_: report("custom Launch"))
    box.pack_start(canvas, False, False, 0)

    buttons = Gtk.Box(spacing=12)
    for label in ("Cancel", "Apply"):
        button = Gtk.Button(label=label)
        button.connect("clicked", lambda _w, l=label: report(f"clicked {l}"))
        buttons.pack_start(button, False, False, 0)
    box.pack_start(buttons, False, False, 0)

    window.show_all()
    GLib.timeout_add(300, lambda: report("ready") and False)
    Gtk.main()


if __name__ == "__main__":
    main()
