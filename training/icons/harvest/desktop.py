"""Real applications under Xvfb: launched in a look (theme, icon theme, scale, window size), walked, photographed.

One `Desktop` is an Xvfb screen with its own D-Bus session bus and AT-SPI bus; each `shoot` starts one application
in a fresh home directory (its settings written there first: themes, toolbars shown), sizes its main window, waits
until the accessibility tree stops growing, and returns the screenshot with every showing element's box in its
pixels. Everything started is a child process, stopped on exit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from agent.a11y.headless import publish_bus_on_display, start_atspi_bus, start_session_bus, start_xvfb
from grounding.geometry import Box

from .apps import App
from .looks import Look


@dataclass(frozen=True)
class Shot:
    image: Image.Image
    elements: tuple[dict, ...]  # agent.a11y Element.to_dict() records, with image_box in the image's pixels


class Desktop:
    def __init__(self, screen: tuple[int, int] = (3840, 2160)) -> None:
        self.screen = screen
        self.processes: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}
        self.walker = None

    def __enter__(self) -> Desktop:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        xvfb, display, self._xvfb_fd = start_xvfb(self.screen)
        self.processes.append(xvfb)
        # A private runtime dir and a session bus that starts no services (portals, dconf): nothing a harvested
        # application does lands in the user's own files or outlives the desktop.
        self.runtime = Path(tempfile.mkdtemp(prefix="harvest-session-"))
        bus, address = start_session_bus(self.runtime)
        self.processes.append(bus)
        self.env = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": str(self.runtime)}
        os.environ.update(self.env)  # the walker's worker and mss inherit the display and the bus
        self.processes.append(start_atspi_bus())
        from agent.a11y import Walker

        self.walker = Walker([sys.executable, "-m", "training.icons.harvest.walk_worker"])
        deadline = time.monotonic() + 20
        while self._walk().status == "unavailable":
            if time.monotonic() > deadline:
                raise RuntimeError("the AT-SPI bus did not come up")
            time.sleep(0.2)
        from agent.a11y.atspi import bus_address

        publish_bus_on_display(bus_address(2.0))

    def __exit__(self, *exc) -> None:
        if self.walker is not None:
            self.walker.close()
        for process in reversed(self.processes):
            _stop(process)
        if hasattr(self, "runtime"):
            shutil.rmtree(self.runtime, ignore_errors=True)
        if hasattr(self, "_xvfb_fd"):
            os.close(self._xvfb_fd)

    def _walk(self, region: Box | None = None):
        from agent.a11y import Limits

        return self.walker.walk(Limits(scope="desktop", region=region, max_nodes=8000, call_timeout_s=2.0), 30.0)

    def shoot(self, app: App, look: Look, documents: Path, act: bool = False, settle_s: float = 25.0) -> Shot | None:
        """`app` in `look` (after its `keys` when `act`: text typed and selected turns editing tools on), or None when
        it never showed a window with an accessibility tree."""
        from agent.capture import capture

        home = Path(tempfile.mkdtemp(prefix=f"harvest-{app.name}-"))
        try:
            # Without the Qt plugin paths opencv-python sets for its own bundled Qt, which break every other Qt program.
            inherited = {k: v for k, v in os.environ.items() if not k.startswith("QT_QPA_") and k != "QT_PLUGIN_PATH"}
            env = {**inherited, **look.environment(home), **app.env, "HOME": str(home)}
            for command in app.setup:
                subprocess.run([part.format(home=home, docs=documents) for part in command], env=env, timeout=30,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            argv = [part.format(home=home, docs=documents) for part in app.argv]
            process = subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                window = _main_window(process.pid, app.window_class, settle_s)
                if window is None:
                    return None
                width, height = (round(side * look.scale) for side in look.size)
                subprocess.run(["xdotool", "windowmove", window, "0", "0", "windowsize", window, str(width),
                                str(height)], env=env, timeout=10, check=False)
                # As a user's pointer would enter the window (some toolkits report stale extents until then).
                subprocess.run(["xdotool", "mousemove", str(width // 2), str(height // 2)], env=env, timeout=10,
                               check=False)
                for keys in app.keys if act else ():
                    subprocess.run(["xdotool", *keys], env=env, timeout=10, check=False)
                region = Box(0, 0, width, height)
                elements = self._settled(region, settle_s)
                if not elements:
                    return None
                shot = capture(region=region)
                snapshot = self._walk(region)  # again, so the boxes are the screenshot's
                snapshot = snapshot.in_image(shot.screen.to_screen.inverse(), shot.image.size)
                return Shot(shot.image, tuple(e.to_dict() for e in snapshot.elements))
            finally:
                _stop(process, group=True)
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def _settled(self, region: Box, timeout_s: float) -> int:
        """Wait until two walks a second apart see the same elements in the same places (a window still being laid
        out moves them); how many there are (0: never more than a few)."""
        deadline = time.monotonic() + timeout_s
        time.sleep(2.0)
        last: list = []
        while time.monotonic() < deadline:
            boxes = sorted((e.role, e.name, e.box.to_list()) for e in self._walk(region).elements)
            if boxes == last and len(boxes) > 3:
                return len(boxes)
            last = boxes
            time.sleep(1.0)
        return len(last) if len(last) > 3 else 0


def _main_window(pid: int, window_class: str, timeout_s: float) -> str | None:
    """The X window id of the application's largest visible window (by its process, else by its class)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for query in (["--pid", str(pid)], ["--class", window_class] if window_class else None):
            if query is None:
                continue
            found = subprocess.run(["xdotool", "search", "--onlyvisible", *query], capture_output=True, text=True,
                                   timeout=10).stdout.split()
            sizes = []
            for window in found:
                geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], capture_output=True,
                                          text=True, timeout=10).stdout
                values = dict(line.split("=", 1) for line in geometry.split() if "=" in line)
                sizes.append((int(values.get("WIDTH", 0)) * int(values.get("HEIGHT", 0)), window))
            sizes = [s for s in sizes if s[0] >= 200 * 150]
            if sizes:
                return max(sizes)[1]
        time.sleep(0.5)
    return None


def _stop(process: subprocess.Popen, group: bool = False) -> None:
    if process.poll() is not None:
        return
    try:
        if group:
            os.killpg(process.pid, 15)
        else:
            process.terminate()
        process.wait(timeout=10)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(process.pid, 9) if group else process.kill()
        except ProcessLookupError:
            pass
        process.wait()
