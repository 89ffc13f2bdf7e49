"""Screenshots of the live screen (all monitors, one monitor, a region) that carry where their pixels lie on it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from PIL import Image

from grounding.errors import OptionError
from grounding.geometry import Box, Point
from grounding.inputs import image_key, load_image
from tools.image import crop

from .screen import DisplayError, Monitor, OffScreenError, ScreenMap, require_display, union


@dataclass(frozen=True)
class Screenshot:
    image: Image.Image
    screen: ScreenMap
    source: str  # "all monitors", "monitor 2", "region [...]" or the file it was read from
    live: bool = False  # taken from the screen just now (so the accessibility tree describes the same screen)

    @cached_property
    def hash(self) -> str:
        """Content hash, for the action log (the same pixels give the same hash across runs)."""
        return image_key(self.image)

    def to_screen(self, image_point: Point) -> Point:
        return self.screen.point(image_point)

    def crop(self, box: Box) -> Screenshot:
        """The part of this screenshot inside `box` (image pixels), still mapping to the right screen points."""
        view = crop(self.image, box)
        return Screenshot(view.image, self.screen.crop(view.box), f"{self.source} crop {view.box.to_list()}", self.live)


def _open_mss():
    require_display()
    import mss

    factory = getattr(mss, "MSS", None) or mss.mss  # mss 10.2 renamed the class; >= 9 is supported
    try:
        return factory()
    except Exception as exc:  # mss raises its own ScreenShotError or ctypes/OS errors depending on the platform
        raise DisplayError(f"cannot open the display for capture: {exc}") from None


def _layout(sct) -> tuple[Monitor, ...]:
    return tuple(
        Monitor(i, int(m["left"]), int(m["top"]), int(m["width"]), int(m["height"]))
        for i, m in enumerate(sct.monitors[1:], start=1)
    )


def monitors() -> tuple[Monitor, ...]:
    """The live monitor layout (1-based, as mss numbers them)."""
    with _open_mss() as sct:
        return _layout(sct)


def capture(monitor: int = 0, region: Box | None = None) -> Screenshot:
    """Grab monitor `monitor` (0: the bounding box of all of them) or a screen `region` (screen coordinates)."""
    with _open_mss() as sct:
        layout = _layout(sct)
        if region is not None:
            area, source = _region_area(region, layout), f"region {region.to_list()}"
        elif monitor == 0:
            area, source = union(layout).box, "all monitors"
        elif 1 <= monitor <= len(layout):
            area, source = layout[monitor - 1].box, f"monitor {monitor}"
        else:
            listing = "; ".join(m.describe() for m in layout)
            raise OptionError(f"no monitor {monitor}: this screen has {len(layout)} ({listing}; 0 means all)")
        x1, y1, x2, y2 = area.to_ints()
        try:
            shot = sct.grab({"left": x1, "top": y1, "width": x2 - x1, "height": y2 - y1})
        except Exception as exc:
            raise DisplayError(f"screen capture failed: {exc}") from None
        image = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
    return Screenshot(image, ScreenMap.of_region(Box(x1, y1, x2, y2), image.size, layout), source, live=True)


def _region_area(region: Box, layout: tuple[Monitor, ...]) -> Box:
    area = region.intersection(union(layout).box)
    if area is None or area.width < 1 or area.height < 1:
        raise OffScreenError(f"region {region.to_list()} lies outside the screen {union(layout).box.to_list()}")
    return area


def load_screenshot(path: str | os.PathLike[str]) -> Screenshot:
    """A saved screenshot, for practice: its own pixels are the 'screen', and nothing live is touched."""
    image = load_image(path)
    return Screenshot(image, ScreenMap.of_image(image.size), str(path))
