"""What a grounder returns, and the one protocol every grounder implements."""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from .geometry import Box, Point


class Status(str, enum.Enum):
    OK = "ok"
    NOT_FOUND = "not_found"  # the grounder looked and says the target is not there
    WRONG_FORMAT = "wrong_format"  # the model answered, but not with coordinates we could read
    ERROR = "error"  # the backend failed on this input (kept per sample so long runs continue)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TraceStep:
    """One look at the screen: where (crop, in the caller's pixels), how magnified, what came back."""

    kind: str  # "full", "zoom", "tile", "candidate", "tool", "aggregate", ...
    crop: Box | None
    scale: float = 1.0
    raw: str = ""
    point: Point | None = None  # mapped into the caller's pixels
    score: float = 0.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "crop": self.crop.to_list() if self.crop else None,
            "scale": round(self.scale, 4),
            "raw": self.raw,
            "point": self.point.to_list() if self.point else None,
            "score": round(self.score, 4),
            "note": self.note,
        }


@dataclass(frozen=True)
class Prediction:
    """A grounder's answer, in pixels of the image that was passed to `locate`."""

    point: Point | None
    box: Box | None = None
    score: float = 0.0
    status: Status = Status.OK
    raw: str = ""
    elapsed_s: float = 0.0
    trace: tuple[TraceStep, ...] = ()
    calls: int = 1  # model calls spent, zoom steps included
    tokens: int = 0  # generated + prompt tokens for token models, 0 where it does not apply
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The grounder holds that no closer look can change this answer: a zoom loop neither narrows it (found) nor
    # searches magnified tiles for it (not found). Grounders that cannot tell leave it False.
    final: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {self.score}")
        if self.status is Status.OK and self.point is None:
            raise ValueError("an ok prediction needs a point")
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "trace", tuple(self.trace))

    @property
    def found(self) -> bool:
        return self.status is Status.OK and self.point is not None

    @classmethod
    def not_found(cls, raw: str = "", **kwargs: Any) -> Prediction:
        return cls(point=None, status=Status.NOT_FOUND, raw=raw, **kwargs)

    @classmethod
    def wrong_format(cls, raw: str, **kwargs: Any) -> Prediction:
        return cls(point=None, status=Status.WRONG_FORMAT, raw=raw, **kwargs)

    def with_(self, **changes: Any) -> Prediction:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "point": self.point.to_list() if self.point else None,
            "box": self.box.to_list() if self.box else None,
            "score": round(self.score, 4),
            "status": self.status.value,
            "raw": self.raw,
            "elapsed_s": round(self.elapsed_s, 4),
            "calls": self.calls,
            "tokens": self.tokens,
            "trace": [step.to_dict() for step in self.trace],
            **({"final": True} if self.final else {}),
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


@runtime_checkable
class Grounder(Protocol):
    """Anything that finds the target of an instruction on a screenshot.

    `locate` takes a PIL image in any mode and returns a Prediction in that image's pixels. It raises only for bad
    input (`ImageError`, `InstructionError`) or a broken backend (`BackendError`); a model answer it cannot read is a
    `wrong_format` Prediction, not an exception.

    A grounder may also have any of the optional capabilities below; callers test for one with `isinstance`, and a
    wrapper (the zoom loop) declares which of its inner grounder's capabilities still hold for it.
    """

    name: str

    def locate(self, image: Image.Image, instruction: str) -> Prediction: ...


# ---- optional capabilities ----------------------------------------------------------------------------------------

@runtime_checkable
class Batching(Protocol):
    """Answers several (image, instruction) pairs in one call, `batch_size` at a time (the eval runner bundles)."""

    batch_size: int

    def locate_batch(self, images: Sequence[Image.Image], instructions: Sequence[str]) -> list[Prediction]: ...


@runtime_checkable
class Parallel(Protocol):
    """Serves `parallelism` locate calls at once (the eval runner starts that many workers)."""

    parallelism: int


@runtime_checkable
class PrefersPixels(Protocol):
    """Sees at most `preferred_max_pixels` of an image; the zoom loop downscales its looks to that budget."""

    preferred_max_pixels: int


@runtime_checkable
class Revisioned(Protocol):
    """`revision` names the weights, so an evaluation journal written with other weights is never resumed."""

    revision: str


def revision_of(grounder: Grounder) -> str | None:
    return grounder.revision if isinstance(grounder, Revisioned) else None


@runtime_checkable
class ZoomTuned(Protocol):
    """`zoom_defaults`: zoom settings that suit how this grounder's scores behave (the caller's settings win)."""

    zoom_defaults: Mapping[str, Any]


@runtime_checkable
class Reads(Protocol):
    """`read(image)`: all the text on the screen with its boxes (OCR), cached per image for reuse by other parts."""

    def read(self, image: Image.Image) -> Any: ...


class Stopwatch:
    """Measures a locate call: `with Stopwatch() as sw: ...`; `sw.elapsed` runs on inside the block and stops at its
    end."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        self._stop: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return (self._stop if self._stop is not None else time.perf_counter()) - self._start
