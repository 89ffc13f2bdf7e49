"""What an accessibility walk returns: frozen records of the controls on screen, in screen and image pixels."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from grounding.geometry import Box, Transform


@dataclass(frozen=True)
class Element:
    """One control as the platform's accessibility API publishes it.

    `box` is in screen coordinates (the ones mss reports and the executor clicks: X11 pixels, macOS points, Windows
    physical pixels), already corrected for toolkits that report unscaled or window-relative extents; `image_box` is
    the same box in the pixels of a screenshot, once `in_image` has been applied.
    """

    role: str  # the platform's own role name: "push button" (AT-SPI), "Button" (UIA), "AXButton" (AX)
    kinds: tuple[str, ...]  # what an instruction would call it ("button", "tab", "checkbox"...; roles.py), () = container
    name: str
    box: Box
    description: str = ""
    text: str = ""  # what a field shows when it has no name (an entry's content)
    states: frozenset[str] = frozenset()
    app: str = ""
    window: str = ""  # title of the top-level window it belongs to
    path: tuple[int, ...] = ()  # child indexes from the application's root: names the element within one walk
    image_box: Box | None = None

    @property
    def kind(self) -> str | None:
        return self.kinds[0] if self.kinds else None

    @property
    def label(self) -> str:
        return self.name or self.text

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "role": self.role,
            "kinds": list(self.kinds),
            "name": self.name,
            "box": self.box.to_list(),
            "description": self.description,
            "text": self.text,
            "states": sorted(self.states),
            "app": self.app,
            "window": self.window,
            "path": list(self.path),
        }
        if self.image_box is not None:
            data["image_box"] = self.image_box.to_list()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Element:
        return cls(
            role=data["role"],
            kinds=tuple(data.get("kinds", ())),
            name=data.get("name", ""),
            box=Box.of(data["box"]),
            description=data.get("description", ""),
            text=data.get("text", ""),
            states=frozenset(data.get("states", ())),
            app=data.get("app", ""),
            window=data.get("window", ""),
            path=tuple(data.get("path", ())),
            image_box=Box.of(data["image_box"]) if data.get("image_box") else None,
        )


@dataclass(frozen=True)
class Snapshot:
    """The result of one walk: the elements kept, and whether the walk saw everything.

    `status`: "complete"; "partial" (the deadline or a node/depth cap cut it short: the elements are real but some
    are missing; the active window comes first, so it is the part most likely kept); "unavailable" (no accessibility
    bus or backend on this machine); "failed" (the walker broke). `reason` says why in one line.
    """

    elements: tuple[Element, ...]
    status: str
    reason: str = ""
    elapsed_s: float = 0.0
    nodes: int = 0  # accessible objects visited
    notes: tuple[str, ...] = field(default=())  # per-application problems met on the way (a stalled app, ...)

    @property
    def usable(self) -> bool:
        return self.status in ("complete", "partial") and bool(self.elements)

    def in_image(self, to_image: Transform, image_size: tuple[int, int]) -> Snapshot:
        """The elements with their boxes in the pixels of a screenshot (`to_image`: screen -> image); those that
        fall outside the image are dropped, those that spill over are cut to it."""
        kept = []
        for element in self.elements:
            box = to_image.apply_box(element.box).intersection(Box(0, 0, *image_size))
            if box is not None and box.width >= 1 and box.height >= 1:
                kept.append(replace(element, image_box=box))
        return replace(self, elements=tuple(kept))

    def describe(self) -> str:
        text = f"a11y tree {self.status}: {len(self.elements)} elements of {self.nodes} nodes in {self.elapsed_s:.2f}s"
        details = [d for d in (self.reason, *self.notes) if d]
        return text + (f" ({'; '.join(details)})" if details else "")
