"""Monitors and the one mapping from screenshot pixels to the points the executor clicks.

Screen coordinates are those mss reports for its monitors and pyautogui moves to: X11 pixels on Linux, points on
macOS, DPI-aware pixels on Windows (mss makes the process DPI aware when it loads). A screenshot may hold more pixels
than the screen has points (Retina 2x, Windows 125-175%), so the scale is measured per capture as captured pixels /
screen size, never assumed from a platform or library version.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace

from grounding.errors import GroundingError
from grounding.geometry import Box, Point, Transform


class OffScreenError(GroundingError, ValueError):
    """A point lies outside every monitor: acting there would hit nothing the user can see, so it is refused."""


class DisplayError(GroundingError, RuntimeError):
    """No usable display to capture or act on."""


def require_display() -> None:
    """Fail with a plain reason before mss or pyautogui fail with a cryptic one."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        wayland = " (Wayland without XWayland is not supported)" if os.environ.get("WAYLAND_DISPLAY") else ""
        raise DisplayError(
            f"no display: $DISPLAY is not set{wayland}; run inside an X11 session or Xvfb, "
            "or practise on a saved screenshot with `ground agent --screenshot FILE`"
        )


@dataclass(frozen=True)
class Monitor:
    """One monitor in screen coordinates; `index` follows mss (1 is the first monitor, 0 is all of them)."""

    index: int
    left: int
    top: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"monitor {self.index} has no area: {self.width}x{self.height}")

    @property
    def box(self) -> Box:
        return Box.from_xywh(self.left, self.top, self.width, self.height)

    def contains(self, point: Point) -> bool:
        """Whether the pixel the point falls in belongs to this monitor (the far edges belong to the neighbour)."""
        x, y = point.rounded()
        return self.left <= x < self.left + self.width and self.top <= y < self.top + self.height

    def describe(self) -> str:
        return f"monitor {self.index}: {self.width}x{self.height} at ({self.left}, {self.top})"


def union(monitors: tuple[Monitor, ...]) -> Monitor:
    """The bounding box of all monitors (mss's monitor 0); parts of it may lie on no monitor."""
    if not monitors:
        raise ValueError("no monitors")
    box = Box.union_of(m.box for m in monitors)
    return Monitor(0, int(box.x1), int(box.y1), int(box.width), int(box.height))


def monitor_at(point: Point, monitors: tuple[Monitor, ...]) -> Monitor | None:
    return next((m for m in monitors if m.contains(point)), None)


def check_on_screen(point: Point, monitors: tuple[Monitor, ...]) -> Monitor:
    """The monitor holding `point`, or OffScreenError (a bounding-box check is not enough: L-shaped layouts)."""
    monitor = monitor_at(point, monitors)
    if monitor is None:
        x, y = point.rounded()
        layout = "; ".join(m.describe() for m in monitors) or "no monitors known"
        raise OffScreenError(f"point ({x}, {y}) lies outside every monitor ({layout}); not acting there")
    return monitor


@dataclass(frozen=True)
class ScreenMap:
    """Where a screenshot's pixels lie on the screen: image pixel -> screen point, plus the monitor layout then.

    `to_screen` carries both the HiDPI scale and the monitor offset (negative offsets included); crops and resizes of
    the screenshot compose onto it, so a point found on any derived image maps back through one Transform.
    """

    image_size: tuple[int, int]
    to_screen: Transform
    monitors: tuple[Monitor, ...]

    @classmethod
    def of_region(cls, region: Box, image_size: tuple[int, int], monitors: tuple[Monitor, ...]) -> ScreenMap:
        """A capture of screen `region` delivered as an image of `image_size` pixels."""
        w, h = image_size
        if w <= 0 or h <= 0:
            raise ValueError(f"image has no pixels: {w}x{h}")
        return cls((w, h), Transform.box_to_box(Box(0, 0, w, h), region), tuple(monitors))

    @classmethod
    def of_image(cls, image_size: tuple[int, int]) -> ScreenMap:
        """A saved screenshot with no live screen behind it: one virtual monitor, one pixel per point."""
        w, h = image_size
        return cls.of_region(Box(0, 0, w, h), image_size, (Monitor(1, 0, 0, w, h),))

    @property
    def region(self) -> Box:
        """The screen area the image shows, in screen coordinates."""
        return self.to_screen.apply_box(Box(0, 0, *self.image_size))

    @property
    def scale(self) -> float:
        """Image pixels per screen point (2.0 on Retina, 1.25 at Windows' 125%)."""
        return 1.0 / self.to_screen.scale_x

    def point(self, image_point: Point) -> Point:
        """The screen point under an image pixel."""
        return self.to_screen.apply(image_point)

    def image_point(self, screen_point: Point) -> Point:
        return self.to_screen.inverse().apply(screen_point)

    def crop(self, box: Box) -> ScreenMap:
        """The map of the sub-image `box` (image pixels; integer corners, as `tools.image.crop` takes)."""
        x1, y1, x2, y2 = box.to_ints()
        return replace(self, image_size=(x2 - x1, y2 - y1), to_screen=Transform.translate(x1, y1).then(self.to_screen))

    def resized(self, size: tuple[int, int]) -> ScreenMap:
        """The map of this image resized to `size` (for a model that wants fewer pixels)."""
        back = Transform.between_sizes(size, self.image_size)
        return replace(self, image_size=tuple(size), to_screen=back.then(self.to_screen))

