"""Harvest real controls with their names: real applications photographed in many looks, with what their
accessibility tree (desktop: AT-SPI; web: Chromium's) says each control is and where.

    python -m training.icons harvest [--apps a,b] [--looks 16]   # shots into <cache>/harvest/shots/<app>/
    python -m training.icons real                                # crops and the held-out screens from the shots

Each shot is `<look>.png` + `<look>.json` (the elements, boxes in the png's pixels); shots already taken are kept, so
an interrupted harvest continues where it stopped. Applications come from Debian, npm and PyPI (apps.py); the npm
and PyPI ones are installed into <cache>/harvest/web, the PyPI ones run under `--web-python` (a virtual environment
of their own keeps their dependencies away from the training's).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path

from .apps import APPS, NPM_PACKAGES, App, excluded, write_documents
from .looks import Look, looks

PAGES = Path(__file__).resolve().parent / "pages"


def prepare_web(folder: Path, python: str) -> None:
    """npm packages, our host pages and the PyPI applications' pages and data, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").is_file():
        (folder / "package.json").write_text('{"name": "harvest-web", "private": true}\n')
    installed = folder / "node_modules"
    missing = [p for p in NPM_PACKAGES if not (installed / p.rsplit("@", 1)[0] / "package.json").is_file()]
    if missing:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *missing], cwd=folder, check=True)
    shutil.copytree(PAGES, folder / "pages", dirs_exist_ok=True)
    write_documents(folder / "docs")
    shutil.copy(folder / "docs" / "photo.png", folder / "pages" / "poster.png")
    if not (folder / "plotly.html").is_file():
        subprocess.run([python, str(folder / "pages" / "make_pages.py"), str(folder)], check=True)
    if not (folder / "mkdocs" / "site" / "index.html").is_file():
        subprocess.run([python, "-m", "mkdocs", "build", "-q"], cwd=folder / "mkdocs", check=True)
    if not (folder / "wiki" / "tiddlywiki.info").is_file():
        subprocess.run(["node", str(folder / "node_modules/tiddlywiki/tiddlywiki.js"), str(folder / "wiki"),
                        "--init", "server"], check=True)


def shots_folder(cache: Path) -> Path:
    return cache / "harvest" / "shots"


def app_looks(app: App, count: int) -> list[Look]:
    """The looks an application is photographed in (fewer for held-out ones: they are measured, not learned)."""
    return looks(app.name, max(2, count // 3) if app.held_out else count, web=app.toolkit == "web")


def harvest(cache: Path, names: list[str], count: int, python: str) -> None:
    """Photograph every selected application in its looks, skipping shots already on disk."""
    selected = [app for app in APPS if not names or app.name in names]
    refused = [f"{app.name} ({excluded(app)})" for app in selected if excluded(app)]
    if refused:
        raise ValueError(f"benchmark applications are never harvested: {', '.join(refused)}")
    folder = shots_folder(cache)
    documents = cache / "harvest" / "docs"
    write_documents(documents)
    desktop_apps = [app for app in selected if app.toolkit != "web"]
    web_apps = [app for app in selected if app.toolkit == "web"]
    if desktop_apps:
        from .desktop import Desktop

        with Desktop() as desktop:
            for app in desktop_apps:
                for number, look in enumerate(app_looks(app, count)):
                    _save(folder / app.name, look, partial(desktop.shoot, app, look, documents, act=number % 2 == 1))
    if web_apps:
        from .web import Browser, Server

        web = cache / "harvest" / "web"
        prepare_web(web, python)
        with Browser() as browser:
            for app in web_apps:
                done = folder / app.name
                pending = [look for look in app_looks(app, count) if not (done / f"{look.name}.json").exists()]
                if not pending:
                    continue
                try:
                    with Server(app, web, python) as server:
                        for look in pending:
                            _save(folder / app.name, look, partial(browser.shoot, server.url, look))
                except RuntimeError as exc:  # a server that does not start: the other applications go on
                    print(f"{app.name}: {exc}", flush=True)


def _save(folder: Path, look: Look, take) -> None:
    name = look.name
    if (folder / f"{name}.json").exists():
        return
    start = time.perf_counter()
    try:
        shot = take()
    except Exception as exc:  # noqa: BLE001 - one application failing must not stop a long harvest
        print(f"{folder.name} {name}: failed ({type(exc).__name__}: {exc})", flush=True)
        return
    if shot is None:
        print(f"{folder.name} {name}: no window with an accessibility tree", flush=True)
        return
    folder.mkdir(parents=True, exist_ok=True)
    shot.image.save(folder / f"{name}.png")
    (folder / f"{name}.json").write_text(json.dumps({"look": asdict(look), "elements": shot.elements}))
    print(f"{folder.name} {name}: {len(shot.elements)} elements in {time.perf_counter() - start:.1f} s", flush=True)
