"""What one evaluated sample produced, as kept in memory and as a journal line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import GroundingError
from ..geometry import Box, Point
from ..types import Prediction, Status
from . import scoring
from .datasets import Sample


@dataclass(frozen=True)
class Outcome:
    """What one sample produced (its correctness is judged later, from the point and the sample)."""

    id: str
    point: Point | None
    box: Box | None
    status: str
    raw: str = ""
    score: float = 0.0
    elapsed_s: float = 0.0
    calls: int = 0
    tokens: int = 0
    image_size: tuple[int, int] | None = None
    trace: tuple[Mapping[str, Any], ...] = ()
    error: str = ""

    @classmethod
    def of(cls, sample: Sample, prediction: Prediction, elapsed_s: float, image_size: tuple[int, int]) -> Outcome:
        return cls(
            id=sample.id,
            point=prediction.point,
            box=prediction.box,
            status=prediction.status.value,
            raw=prediction.raw,
            score=prediction.score,
            elapsed_s=elapsed_s,
            calls=prediction.calls,
            tokens=prediction.tokens,
            image_size=image_size,
            trace=tuple(step.to_dict() for step in prediction.trace),
        )

    @classmethod
    def failed(cls, sample: Sample, exc: BaseException, image_size: tuple[int, int] | None = None) -> Outcome:
        return cls(sample.id, None, None, Status.ERROR.value, image_size=image_size, error=describe(exc))

    @property
    def answer(self) -> Point | None:
        return scoring.answer_point(self.point, self.box)

    def to_record(self, fingerprint: str) -> dict[str, Any]:
        # Full float precision: a resumed run must score points on box edges exactly as the first run did.
        return {
            "fp": fingerprint,
            "id": self.id,
            "point": [self.point.x, self.point.y] if self.point else None,
            "box": list(self.box) if self.box else None,
            "status": self.status,
            "raw": self.raw,
            "score": self.score,
            "elapsed_s": self.elapsed_s,
            "calls": self.calls,
            "tokens": self.tokens,
            "image_size": list(self.image_size) if self.image_size else None,
            "trace": list(self.trace),
            "error": self.error,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Outcome:
        return cls(
            id=str(record["id"]),
            point=Point.of(record["point"]) if record.get("point") else None,
            box=Box.of(record["box"]) if record.get("box") else None,
            status=str(record["status"]),
            raw=record.get("raw", ""),
            score=float(record.get("score", 0.0)),
            elapsed_s=float(record.get("elapsed_s", 0.0)),
            calls=int(record.get("calls", 0)),
            tokens=int(record.get("tokens", 0)),
            image_size=tuple(record["image_size"]) if record.get("image_size") else None,
            trace=tuple(record.get("trace", ())),
            error=record.get("error", ""),
        )


def correctness(sample: Sample, outcome: Outcome) -> str:
    return scoring.judge(outcome.answer, sample.bbox, outcome.image_size, sample.img_size)


def describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, GroundingError) else f"{type(exc).__name__}: {exc}"
