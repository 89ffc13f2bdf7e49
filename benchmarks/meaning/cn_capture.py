"""Capture the cross-language split: desktop applications with a Chinese UI under Xvfb, truth from AT-SPI.

Run with Debian's Python, which has pyatspi (not the project's virtual environment):

    apt-get install xvfb xdotool dbus at-spi2-core python3-pyatspi python3-pil fonts-noto-cjk locales \
        geany thunar inkscape libreoffice-writer libreoffice-calc libreoffice-gtk3 libreoffice-l10n-zh-cn
    sed -i 's/^# *\\(zh_CN.UTF-8\\)/\\1/; s/^# *\\(en_US.UTF-8\\)/\\1/' /etc/locale.gen && locale-gen
    /usr/bin/python3 benchmarks/meaning/cn_capture.py [--only geany]
    python3 benchmarks/meaning/build.py cn     # then, in the venv: ui_type from OCR, instructions, annotations

Each scene is started twice from the same files, first with LANG=en_US.UTF-8, then with LANG=zh_CN.UTF-8. The
screenshot is the Chinese run's; every kept element is one the two runs show at the same place in the widget tree
(the child-index path from the application), so its English name (for the English instruction) and its Chinese name
(for `instruction_cn`) are the names of one control. Menus are opened through AT-SPI actions on those paths, so no
step depends on the language. Output: cn/raw/<scene>.json and cn/images/<app>_linux/<scene>.png.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "cn"
SIZE = (1920, 1080)
DISPLAY = ":77"

WINDOWS = {"frame", "dialog", "alert", "file chooser", "window"}
ROLES = {
    "push button", "toggle button", "menu", "menu item", "check menu item", "radio menu item", "page tab",
    "check box", "radio button", "combo box", "table column header", "spin button", "link",
}


@dataclass(frozen=True)
class Scene:
    name: str
    application: str
    folder: str  # <app>_linux
    command: tuple[str, ...]
    # Child-index paths (from the application) of controls to activate, in order, before capturing.
    open_paths: tuple[tuple[int, ...], ...] = ()
    # Or: an accessible name in the English run whose path is then activated in both runs.
    open_names: tuple[tuple[str, str], ...] = ()  # (role, English name)
    keys: tuple[str, ...] = ()  # xdotool key presses after start (language-independent shortcuts)
    settle_s: float = 6.0
    env: dict = field(default_factory=dict)


def _geany_files(work: Path) -> list[str]:
    src = work / "proj"
    src.mkdir(exist_ok=True)
    files = []
    for name, body in {
        "server.py": "import socket\n\n\ndef serve(port):\n    s = socket.socket()\n    s.bind(('127.0.0.1', port))\n",
        "client.py": "def connect(host, port):\n    return (host, port)\n",
        "encoder.py": "def encode(text):\n    return text.encode('utf-8')\n",
    }.items():
        (src / name).write_text(body)
        files.append(str(src / name))
    return files


def _thunar_folder(work: Path) -> str:
    folder = work / "files"
    folder.mkdir(exist_ok=True)
    for name in ("notes.txt", "report.odt", "budget.ods", "photo.png", "script.py", "data.csv", "readme.md"):
        (folder / name).write_text("x\n")
    (folder / "archive").mkdir(exist_ok=True)
    return str(folder)


def _doc(work: Path, kind: str) -> str:
    path = work / ("report.txt" if kind == "writer" else "sales.csv")
    if kind == "writer":
        path.write_text("Quarterly report\n\nThroughput rose by 8.4 percent.\n")
    else:
        path.write_text("Site,Units,Cost\nLyon,61400,12.40\nPorto,58900,11.85\nGdansk,63920,11.10\n")
    return str(path)


def scenes(work: Path) -> list[Scene]:
    geany = ("geany", "--no-session", "--no-plugins", "-c", str(work / "geany-cfg"), *_geany_files(work))
    thunar = ("thunar", _thunar_folder(work))
    lo = ("soffice", "--norestore", "--nologo", "-env:UserInstallation=file://" + str(work / "lo-profile"))
    inkscape = ("inkscape", "--with-gui")
    return [
        Scene("geany_main", "Geany", "geany_linux", geany),
        Scene("geany_menu_search", "Geany", "geany_linux", geany, open_names=(("menu", "Search"),)),
        Scene("geany_menu_document", "Geany", "geany_linux", geany, open_names=(("menu", "Document"),)),
        Scene("geany_find_dialog", "Geany", "geany_linux", geany, keys=("ctrl+h",)),
        Scene("thunar_main", "Thunar", "thunar_linux", thunar),
        Scene("thunar_menu_view", "Thunar", "thunar_linux", thunar, open_names=(("menu", "View"),)),
        Scene("thunar_menu_edit", "Thunar", "thunar_linux", thunar, open_names=(("menu", "Edit"),)),
        Scene("writer_main", "LibreOffice Writer", "libreoffice_writer_linux", (*lo, "--writer", _doc(work, "writer")),
              settle_s=14),
        Scene("writer_menu_format", "LibreOffice Writer", "libreoffice_writer_linux",
              (*lo, "--writer", _doc(work, "writer")), open_names=(("menu", "Format"),), settle_s=14),
        Scene("writer_menu_insert", "LibreOffice Writer", "libreoffice_writer_linux",
              (*lo, "--writer", _doc(work, "writer")), open_names=(("menu", "Insert"),), settle_s=14),
        Scene("calc_csv_import", "LibreOffice Calc", "libreoffice_calc_linux", (*lo, "--calc", _doc(work, "calc")),
              settle_s=14),
        Scene("calc_main", "LibreOffice Calc", "libreoffice_calc_linux", (*lo, "--calc"), settle_s=14),
        Scene("calc_menu_data", "LibreOffice Calc", "libreoffice_calc_linux", (*lo, "--calc"),
              open_names=(("menu", "Data"),), settle_s=14),
        Scene("calc_menu_sheet", "LibreOffice Calc", "libreoffice_calc_linux", (*lo, "--calc"),
              open_names=(("menu", "Sheet"),), settle_s=14),
        Scene("inkscape_main", "Inkscape", "inkscape_linux", inkscape, settle_s=20),
        Scene("inkscape_menu_object", "Inkscape", "inkscape_linux", inkscape, open_names=(("menu", "Object"),),
              settle_s=20),
    ]


class Desktop:
    """Xvfb + a session bus + the AT-SPI registry, shared by every run."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Desktop:
        w, h = SIZE
        self.procs.append(subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{w}x{h}x24", "-nolisten", "tcp"]))
        os.environ["DISPLAY"] = DISPLAY
        bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             capture_output=True, text=True, check=True).stdout.split()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus[0]
        self.bus_pid = int(bus[1])
        self.procs.append(subprocess.Popen(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"]))
        time.sleep(1.5)
        self.procs.append(subprocess.Popen(["/usr/libexec/at-spi2-registryd"]))
        time.sleep(1.0)
        os.environ["NO_AT_BRIDGE"] = "0"
        os.environ["GTK_A11Y"] = "atspi"
        os.environ["SAL_USE_VCLPLUGIN"] = "gtk3"
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            os.kill(self.bus_pid, 15)
        except OSError:
            pass


def _app(pid: int, timeout: float = 30.0):
    import pyatspi

    end = time.time() + timeout
    while time.time() < end:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            try:
                if app is not None and app.get_process_id() in _family(pid) and app.childCount:
                    return app
            except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
                continue
        time.sleep(0.5)
    return None


def _family(pid: int) -> set[int]:
    """The pid and its descendants (soffice starts soffice.bin)."""
    out = {pid}
    try:
        listing = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.split("\n")
    except OSError:
        return out
    pairs = [tuple(map(int, line.split())) for line in listing if line.strip()]
    grew = True
    while grew:
        grew = False
        for child, parent in pairs:
            if parent in out and child not in out:
                out.add(child)
                grew = True
    return out


def walk(app) -> tuple[list[dict], list[dict]]:
    """Showing, named controls of interest with their path, role, name and screen box; and the app's top-level
    windows (a dialog hides what lies under it, which the tree still calls showing)."""
    import pyatspi

    found, windows = [], []

    def visit(node, path, depth):
        if depth > 40 or len(found) > 4000:
            return
        try:
            role = node.getRoleName()
            states = node.getState()
            showing = states.contains(pyatspi.STATE_SHOWING) and states.contains(pyatspi.STATE_VISIBLE)
        except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
            return
        if not showing and depth > 1:
            return
        if depth == 1 and role in WINDOWS:
            try:
                ext = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
                windows.append({"path": list(path), "role": role,
                                "bbox": [ext.x, ext.y, ext.x + ext.width, ext.y + ext.height]})
            except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
                pass
        if role in ROLES and node.name and node.name.strip():
            try:
                ext = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
                box = [ext.x, ext.y, ext.x + ext.width, ext.y + ext.height]
            except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
                box = None
            if box and ext.width >= 4 and ext.height >= 4 and box[0] >= 0 and box[1] >= 0 \
                    and box[2] <= SIZE[0] and box[3] <= SIZE[1]:
                found.append({"path": list(path), "role": role, "name": node.name.strip(), "bbox": box})
        try:
            count = min(node.childCount, 500)
        except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
            return
        for i in range(count):
            try:
                child = node.getChildAtIndex(i)
            except Exception:  # noqa: BLE001 - pyatspi raises several types for a node that went away
                continue
            if child is not None:
                visit(child, (*path, i), depth + 1)

    visit(app, (), 0)
    return found, windows


def _fill_screen(pid: int, env: dict) -> None:
    """Move the process's largest visible top-level window to 0,0 and size it to the screen."""
    windows = []
    for member in _family(pid):
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(member)],
                               capture_output=True, text=True, env=env).stdout.split()
        for window in found:
            geometry = subprocess.run(["xdotool", "getwindowgeometry", window], capture_output=True, text=True,
                                      env=env).stdout
            size = re.search(r"Geometry: (\d+)x(\d+)", geometry)
            if size:
                windows.append((int(size.group(1)) * int(size.group(2)), window))
    if windows:
        window = max(windows)[1]
        subprocess.run(["xdotool", "windowmove", window, "0", "0", "windowsize", window, str(SIZE[0]), str(SIZE[1])],
                       check=False, env=env)


def _node(app, path):
    node = app
    for i in path:
        node = node.getChildAtIndex(i)
    return node


def _activate(node) -> None:
    action = node.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in ("click", "press", "activate"):
            action.doAction(i)
            return
    action.doAction(0)


def run(scene: Scene, lang: str, work: Path, paths: list[tuple[int, ...]]) -> tuple[list, list, list, object]:
    """Start the scene in a locale, open what it needs, walk the tree; returns elements, windows, opened paths and
    the screenshot."""
    from PIL import ImageGrab

    env = {**os.environ, "LANG": lang, "LC_ALL": lang, "LANGUAGE": lang.split(".")[0] + ":" + lang[:2], **scene.env}
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    proc = subprocess.Popen(list(scene.command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        time.sleep(scene.settle_s)
        app = _app(proc.pid)
        if app is None:
            raise RuntimeError(f"{scene.name}: no accessible application for pid {proc.pid}")
        # No window manager runs, so the main window is made screen-sized by hand (the same in both runs).
        _fill_screen(proc.pid, env)
        time.sleep(2.0)
        for key in scene.keys:
            subprocess.run(["xdotool", "key", key], check=False, env=env)
            time.sleep(2.0)
        opened = list(paths)
        if not opened and scene.open_names:
            elements, _ = walk(app)
            for role, name in scene.open_names:
                hit = next((e for e in elements if e["role"] == role and e["name"].replace("_", "") == name), None)
                if hit is None:
                    raise RuntimeError(f"{scene.name}: no {role} named {name!r}")
                opened.append(tuple(hit["path"]))
        for path in opened:
            _activate(_node(app, path))
            time.sleep(2.0)
        elements, windows = walk(app)
        shot = ImageGrab.grab(xdisplay=DISPLAY)
        return elements, windows, opened, shot
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        time.sleep(1.0)
        shutil.rmtree(home, ignore_errors=True)


def capture(scene: Scene, work: Path) -> int:
    english, _, opened, _ = run(scene, "en_US.UTF-8", work, [])
    chinese, windows, _, shot = run(scene, "zh_CN.UTF-8", work, opened)
    by_path = {tuple(e["path"]): e for e in english}
    pairs = []
    for zh in chinese:
        en = by_path.get(tuple(zh["path"]))
        if en is None or en["role"] != zh["role"]:
            continue
        pairs.append({"role": zh["role"], "name_en": en["name"], "name_cn": zh["name"], "bbox": zh["bbox"],
                      "path": zh["path"]})
    image = OUT / "images" / scene.folder / f"{scene.name}.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    shot.convert("RGB").save(image, optimize=True)
    raw = OUT / "raw" / f"{scene.name}.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({
        "scene": scene.name, "application": scene.application, "folder": scene.folder,
        "img_filename": f"{scene.folder}/{scene.name}.png", "img_size": list(shot.size), "windows": windows,
        "elements": pairs,
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="scene name prefix (repeatable)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cn-capture-"))
    try:
        with Desktop():
            import pyatspi  # noqa: F401  (after the bus address is set)

            for scene in scenes(work):
                if args.only and not any(scene.name.startswith(p) for p in args.only):
                    continue
                try:
                    print(f"{scene.name}: {capture(scene, work)} paired elements", flush=True)
                except Exception as exc:  # noqa: BLE001 - one app failing must not lose the others
                    print(f"{scene.name}: FAILED {type(exc).__name__}: {exc}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
