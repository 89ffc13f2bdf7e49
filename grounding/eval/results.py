"""A finished (or interrupted) evaluation: per-sample details in the official results' fields, and the summary."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..types import Status
from . import scoring
from .datasets import Dataset, Sample
from .records import Outcome, correctness


@dataclass(frozen=True)
class Results:
    dataset: Dataset
    outcomes: tuple[Outcome, ...]  # finished samples, in dataset order
    model: str
    fingerprint: str
    planned: int  # samples this run was asked for (after --limit)
    wall_s: float
    interrupted: bool = False
    resumed: int = 0  # outcomes taken from the journal
    journal_path: Path | None = None
    samples: Mapping[str, Sample] = field(default_factory=dict, repr=False)

    @cached_property
    def details(self) -> list[dict[str, Any]]:
        """Per-sample records: the official script's fields (pred in original pixels, correctness...) plus ours."""
        return [self._detail(self.samples[o.id], o) for o in self.outcomes]

    def _detail(self, sample: Sample, outcome: Outcome) -> dict[str, Any]:
        point = outcome.answer
        size = sample.img_size or outcome.image_size
        return {
            "id": sample.id,
            "img_path": str(sample.image_path),
            "group": sample.group,
            "platform": sample.platform,
            "application": sample.application,
            "lang": self.dataset.language,
            "instruction_style": "instruction",
            "prompt_to_evaluate": sample.instruction,
            "gt_type": "positive",
            "ui_type": sample.ui_type,
            "task_filename": sample.split,
            "pred": [point.x, point.y] if point else None,
            "raw_response": outcome.raw,
            "bbox": list(sample.bbox),  # always [x1, y1, x2, y2], whatever convention the file used
            "correctness": correctness(sample, outcome),
            "img_size": list(size) if size else None,
            "data_source": sample.data_source,
            "status": outcome.status,
            "score": round(outcome.score, 4),
            "box": list(outcome.box) if outcome.box else None,
            "elapsed_s": round(outcome.elapsed_s, 4),
            "calls": outcome.calls,
            "tokens": outcome.tokens,
            "error": outcome.error,
            "trace": list(outcome.trace),
        }

    def summary(self) -> dict[str, Any]:
        details = self.details
        overall = scoring.stats(details, split_ui=False)
        latencies = [d["elapsed_s"] for d in details if d["status"] != Status.ERROR.value]
        return {
            "model": self.model,
            "dataset": str(self.dataset.path),
            "format": self.dataset.format,
            "bbox_convention": self.dataset.bbox_convention,
            "language": self.dataset.language,
            **overall,
            "errors": sum(d["status"] == Status.ERROR.value for d in details),
            "not_found": sum(d["status"] == Status.NOT_FOUND.value for d in details),
            "by_ui_type": scoring.by_ui_type(details),
            "by_group": scoring.breakdown(details, "group"),
            "by_application": scoring.breakdown(details, "application"),
            "by_platform": scoring.breakdown(details, "platform"),
            "by_resolution": scoring.breakdown(details, scoring.resolution),
            "latency_s": _latency(latencies),
            "calls": sum(d["calls"] for d in details),
            "tokens": sum(d["tokens"] for d in details),
            "wall_s": round(self.wall_s, 2),
            "planned": self.planned,
            "resumed": self.resumed,
            "interrupted": self.interrupted,
            "skipped_rows": sum(p.skipped for p in self.dataset.problems),
            "fingerprint": self.fingerprint,
        }

    def to_json(self) -> dict[str, Any]:
        """The official results file's structure ({details, metrics}) plus our `summary`."""
        return {"details": self.details, "metrics": scoring.official_metrics(self.details), "summary": self.summary()}

    def write(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        tmp.replace(path)  # a Ctrl-C while writing never leaves half a results file


def _latency(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None, "mean": None}
    ordered = sorted(values)
    # Nearest-rank p90: a latency some sample really had.
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "median": round(statistics.median(ordered), 4),
        "p90": round(p90, 4),
        "mean": round(statistics.fmean(ordered), 4),
    }
