"""Web applications in headless Chromium: the page in a look (viewport, device scale, light or dark), its
accessibility tree as Chromium computes it (the names a screen reader would say), each node's box, the screenshot.

Pages come from a local server only: a static one over the harvest's web folder (npm packages and the host pages in
pages/), or the application's own server started on a free port of 127.0.0.1.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from PIL import Image

from .apps import App
from .desktop import Shot, _stop
from .looks import Look

# No network beyond this machine, no first-run or background traffic (which this machine refuses, slowly).
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--font-render-hinting=none")
# Chromium's computed roles worth keeping (containers and text runs carry no control of their own).
ROLES = frozenset(["button", "link", "tab", "checkbox", "radio", "menuitem", "menuitemcheckbox", "menuitemradio",
                   "switch", "img", "image", "combobox", "PopUpButton", "ToggleButton", "textbox", "searchbox",
                   "slider", "spinbutton", "treeitem", "listitem", "option", "heading", "StaticText",
                   "graphics-symbol"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """An application's web server (or a static one over `folder`) on 127.0.0.1, up until the block ends."""

    def __init__(self, app: App, folder: Path, python: str) -> None:
        self.port = free_port()
        where = {"port": self.port, "web": folder, "python": python, "bin": Path(python).parent}
        self.argv = [p.format(**where) for p in app.argv] or [
            python, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "--directory", str(folder)]
        self.url = app.url.format(port=self.port)
        self.folder = folder
        self.env = app.env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.argv, cwd=self.folder, env={**os.environ, **self.env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"{self.argv[0]} did not serve {self.url}")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            _stop(self.process, group=True)


class Browser:
    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path="/usr/bin/chromium", args=list(FLAGS))
        return self

    def __exit__(self, *exc) -> None:
        self.browser.close()
        self._playwright.stop()

    def shoot(self, url: str, look: Look, keys: tuple[tuple[str, ...], ...] = ()) -> Shot:
        page = self.browser.new_page(viewport={"width": look.size[0], "height": look.size[1]},
                                     device_scale_factor=look.scale, color_scheme="dark" if look.dark else "light")
        try:
            page.goto(url, wait_until="load", timeout=60_000)
            page.wait_for_timeout(2500)  # scripts that build the page after load
            page.mouse.move(look.size[0] / 2, look.size[1] / 2)
            for action, *arguments in keys:
                if action == "click":
                    page.click(arguments[0], timeout=5000)
                elif action == "type":
                    page.keyboard.type(arguments[0])
                elif action == "key":
                    page.keyboard.press(arguments[0])
            page.wait_for_timeout(500)
            image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            return Shot(image, tuple(_elements(page, look.scale, image.size)))
        finally:
            page.close()


def _elements(page, scale: float, size: tuple[int, int]) -> list[dict]:
    """The page's accessibility nodes with a role worth keeping, in the records the desktop walker gives, boxes in
    screenshot pixels."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.getDocument", {"depth": -1})
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    elements = []
    for node in nodes:
        role = node.get("role", {}).get("value", "")
        name = node.get("name", {}).get("value", "") or ""
        # Toolbars built of plain elements with a title (Bokeh's tools) are generic nodes with a name.
        if node.get("ignored") or "backendDOMNodeId" not in node or not (role in ROLES or (role == "generic" and name)):
            continue
        try:
            quad = session.send("DOM.getBoxModel", {"backendNodeId": node["backendDOMNodeId"]})["model"]["border"]
        except Exception:  # noqa: BLE001 - a node without layout (display: none) has no box
            continue
        xs, ys = quad[0::2], quad[1::2]
        box = [max(0.0, min(xs) * scale), max(0.0, min(ys) * scale), min(size[0], max(xs) * scale),
               min(size[1], max(ys) * scale)]
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            continue
        states = {p["name"] for p in node.get("properties", []) if p.get("value", {}).get("value") is True}
        states |= {"showing", "visible"} | ({"enabled"} if "disabled" not in states else set())
        elements.append({
            "role": role, "name": name,
            "description": node.get("description", {}).get("value", "") or "", "states": sorted(states),
            "box": box, "image_box": box,
        })
    session.detach()
    return elements
