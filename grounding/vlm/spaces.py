"""Coordinate spaces: what the numbers a model writes mean, as one table that every reader uses.

A space says how large it is for an image the model saw at (W', H') (its own pixels, or a fixed relative square),
how many decimals its answers carry, and how an instruction to the model names its units. The families, the HTTP
client, the tool loop's guide and `ground serve` all read these rows instead of spelling the spaces out themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnknownModelError
from ..geometry import Point, Transform


@dataclass(frozen=True)
class Space:
    name: str
    # Side of the relative square the model writes in (1000 for 0-1000); None: the pixels of the image it saw.
    relative_extent: float | None
    # How a prompt names one unit; `{width}` and `{height}` are the size the model saw.
    units: str
    decimals: int  # digits after the point in an answer written in this space (0: integers)

    @property
    def in_pixels(self) -> bool:
        return self.relative_extent is None

    def extent(self, model_size: tuple[int, int]) -> tuple[float, float]:
        """Width and height of the space for an image the model saw at model_size."""
        if self.relative_extent is None:
            return float(model_size[0]), float(model_size[1])
        return self.relative_extent, self.relative_extent

    def to_model(self, model_size: tuple[int, int]) -> Transform:
        """Maps numbers in this space onto the pixels of the (resized) image the model saw."""
        return Transform.between_sizes(self.extent(model_size), model_size)

    def contains(self, point: Point, model_size: tuple[int, int], slack: float = 0.05) -> bool:
        """Whether `point` lies in the space with `slack` of its extent to spare: (12, 34) from a 0-1 model is a
        misread, better reported as wrong_format than clamped onto the screen's edge."""
        width, height = self.extent(model_size)
        return (-slack * width <= point.x <= (1 + slack) * width) and (
            -slack * height <= point.y <= (1 + slack) * height
        )

    def write(self, value: float) -> str:
        return f"{value:.{self.decimals}f}" if self.decimals else str(round(value))

    def describe(self, model_size: tuple[int, int]) -> str:
        return self.units.format(width=model_size[0], height=model_size[1])


RESIZED_ABS = Space("resized-abs", None, "pixels of this {width}x{height} screenshot", 0)
PER_MILLE = Space("0-1000", 1000.0, "0-1000 relative coordinates", 0)
UNIT = Space("0-1", 1.0, "0-1 relative coordinates", 3)

SPACES: dict[str, Space] = {space.name: space for space in (RESIZED_ABS, PER_MILLE, UNIT)}


def get_space(name: str) -> Space:
    try:
        return SPACES[name]
    except KeyError:
        raise UnknownModelError(f"unknown coordinate space {name!r} (one of {', '.join(SPACES)})") from None
