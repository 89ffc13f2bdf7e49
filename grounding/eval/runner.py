"""Running a grounder over a dataset: image-grouped workers, a JSONL journal, resume, and Ctrl-C that keeps results.

Samples are grouped by screenshot so each image is decoded once (by a loader thread that stays a little ahead of
the workers) and all its instructions run back to back on one worker, where the grounder's per-image cache is warm.
A grounder with `locate_batch(images, instructions)` gets whole screenshot groups bundled up to its `batch_size`.

Every finished sample is appended to the journal and flushed, so a killed run loses only the samples in flight.
Journal lines carry the fingerprint of the model configuration; `resume=True` reuses the lines of the same
fingerprint (except errors, which are retried) and runs only the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import statistics
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import BackendError, GroundingError
from ..geometry import Box, Point
from ..inputs import load_image
from ..types import Grounder, Prediction, Status
from . import scoring
from .datasets import Dataset, Sample

# This many backend failures in a row means the backend is down, not that some samples are hard: stop the run.
MAX_BACKEND_FAILURES_IN_A_ROW = 8


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
        return cls(sample.id, None, None, Status.ERROR.value, image_size=image_size, error=_describe(exc))

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


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, GroundingError) else f"{type(exc).__name__}: {exc}"


def fingerprint(
    model: str, options: Mapping[str, Any], zoom: Any, dataset_path: str | Path, revision: str | None = None
) -> str:
    """Identifies a model configuration on a dataset: resume reuses only predictions with the same fingerprint.

    `revision` is what the grounder says identifies its weights (its `revision` attribute), so a journal written
    before the shipped weights changed is not resumed as if they had not."""
    blob = json.dumps(
        {"model": model, "options": dict(options), "zoom": zoom, "dataset": str(Path(dataset_path).resolve()),
         "revision": revision},
        sort_keys=True, default=repr,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_journal(fingerprint_: str, out: str | Path | None = None) -> Path:
    """Next to the results file when there is one, else in the user's cache folder, named by the fingerprint."""
    if out is not None:
        return Path(f"{out}.journal.jsonl")
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("screenground")) / "eval" / f"{fingerprint_}.jsonl"


class Journal:
    """Append-only JSONL of outcomes; one line per finished sample, flushed as written."""

    def __init__(self, path: str | Path, fingerprint_: str, resume: bool) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint_
        self.done: dict[str, Outcome] = {}
        if resume and self.path.exists():
            self._read()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a" if resume else "w", encoding="utf-8")

    def _read(self) -> None:
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                    outcome = Outcome.from_record(record)
                except (ValueError, KeyError, TypeError):
                    continue  # the line a kill cut short
                if record.get("fp") != self.fingerprint:
                    continue  # another configuration's prediction: kept in the file, not reused
                if outcome.status == Status.ERROR.value:
                    self.done.pop(outcome.id, None)  # retried: errors are often transient
                else:
                    self.done[outcome.id] = outcome

    def append(self, outcome: Outcome) -> None:
        self._file.write(json.dumps(outcome.to_record(self.fingerprint)) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


# ---- results ------------------------------------------------------------------------------------------------------

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


# ---- the run ------------------------------------------------------------------------------------------------------

def default_workers(grounder: Grounder) -> int:
    """A grounder may say how many calls it serves at once (`parallelism`, or a remote client's `concurrency`);
    local models get one worker per two cores, since they already use several threads per call (and the image loader
    thread overlaps decoding with their work)."""
    for hint in ("parallelism", "concurrency"):
        hinted = getattr(grounder, hint, None)
        if isinstance(hinted, int) and hinted > 0:
            return hinted
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def by_image(samples: Iterable[Sample]) -> list[list[Sample]]:
    """Samples grouped by screenshot, groups in order of first appearance."""
    groups: dict[Path, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.image_path, []).append(sample)
    return list(groups.values())


class _Interrupted(Exception):
    """A worker's grounder raised KeyboardInterrupt: the run stops as for Ctrl-C."""


def evaluate(
    grounder: Grounder,
    dataset: Dataset,
    *,
    workers: int | None = None,
    journal_path: str | Path | None = None,
    resume: bool = False,
    limit: int | None = None,
    progress: bool = True,
    fingerprint: str | None = None,
) -> Results:
    """Run `grounder` on the dataset's samples (the first `limit`) and score them.

    Ctrl-C (or a KeyboardInterrupt raised inside the grounder) stops the run: samples already finished are kept and
    returned with `interrupted=True`; the journal holds them too, for `resume`.
    """
    started = time.perf_counter()
    samples = dataset.samples[:limit] if limit is not None else dataset.samples
    model = getattr(grounder, "name", type(grounder).__name__)
    fp = fingerprint or _fallback_fingerprint(model, dataset, getattr(grounder, "revision", None))
    journal = Journal(journal_path, fp, resume) if journal_path is not None else None
    by_id = {s.id: s for s in samples}
    finished = {k: v for k, v in (journal.done if journal else {}).items() if k in by_id}
    resumed = len(finished)
    todo = [s for s in samples if s.id not in finished]
    interrupted = False
    outcomes = _run(grounder, todo, workers or default_workers(grounder))
    try:
        with _Progress(progress, len(samples), resumed, model) as bar:
            for outcome in outcomes:
                finished[outcome.id] = outcome
                if journal:
                    journal.append(outcome)
                bar.advance(correctness(by_id[outcome.id], outcome) == scoring.CORRECT)
    except (KeyboardInterrupt, _Interrupted):
        interrupted = True
    finally:
        outcomes.close()  # stops the threads: nothing new starts, calls in flight end on their own
        if journal:
            journal.close()
    return Results(
        dataset=dataset,
        outcomes=tuple(finished[s.id] for s in samples if s.id in finished),
        model=model,
        fingerprint=fp,
        planned=len(samples),
        wall_s=time.perf_counter() - started,
        interrupted=interrupted,
        resumed=resumed,
        journal_path=journal.path if journal else None,
        samples=by_id,
    )


def _fallback_fingerprint(model: str, dataset: Dataset, revision: str | None) -> str:
    return fingerprint(model, {}, None, dataset.path, revision)


_DONE = object()
BATCH_SIZE = 8  # samples per locate_batch call when the grounder does not say (`batch_size` attribute)


def units_of_work(samples: Sequence[Sample], batch_size: int = 1) -> list[list[list[Sample]]]:
    """Screenshot groups, bundled so a unit holds whole groups and, where groups are small, up to `batch_size`
    samples: ScreenSpot-Pro has one instruction per screenshot, so batching models need several screenshots."""
    units: list[list[list[Sample]]] = []
    for group in by_image(samples):
        if units and sum(len(g) for g in units[-1]) + len(group) <= batch_size:
            units[-1].append(group)
        else:
            units.append([group])
    return units


def _run(grounder: Grounder, todo: Sequence[Sample], workers: int):
    """Yields outcomes as workers finish them; stops the threads when the consumer stops (Ctrl-C included)."""
    if not todo:
        return
    batch = getattr(grounder, "locate_batch", None)
    batch = batch if callable(batch) else None
    units = units_of_work(todo, getattr(grounder, "batch_size", BATCH_SIZE) if batch else 1)
    workers = max(1, min(workers, len(units)))
    stop = threading.Event()
    loaded: queue.Queue = queue.Queue(maxsize=workers + 1)  # decoded images waiting: bounded, 4K frames are large
    results: queue.Queue = queue.Queue()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                loaded.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def load_images() -> None:
        for unit in units:
            item = []
            for group in unit:  # each screenshot decoded once, shared by all its instructions
                try:
                    item.append((group, load_image(group[0].image_path), None))
                except GroundingError as exc:
                    item.append((group, None, exc))
            if not put(item):
                return
        for _ in range(workers):
            put(_DONE)

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    item = loaded.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is _DONE:
                    break
                pairs = []
                for group, image, error in item:
                    for sample in group:
                        if error is None:
                            pairs.append((sample, image))
                        else:
                            results.put((Outcome.failed(sample, error), error))
                for outcome_and_exc in _locate_unit(grounder, batch, pairs, stop):
                    results.put(outcome_and_exc)
        except KeyboardInterrupt:
            results.put(_Interrupted())
        finally:
            results.put(_DONE)

    threads = [threading.Thread(target=load_images, name="eval-loader", daemon=True)]
    threads += [threading.Thread(target=work, name=f"eval-worker-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    running, failures_in_a_row = workers, 0
    try:
        while running:
            try:
                item = results.get(timeout=0.2)  # a timed wait, so Ctrl-C reaches this thread promptly
            except queue.Empty:
                continue
            if item is _DONE:
                running -= 1
                continue
            if isinstance(item, _Interrupted):
                raise item
            outcome, exc = item
            failures_in_a_row = failures_in_a_row + 1 if isinstance(exc, BackendError) else 0
            yield outcome
            if failures_in_a_row >= MAX_BACKEND_FAILURES_IN_A_ROW:
                raise BackendError(
                    f"stopped after {failures_in_a_row} backend failures in a row; the last: {_describe(exc)}"
                )
    finally:
        stop.set()


def _locate_unit(grounder: Grounder, batch, pairs: Sequence[tuple[Sample, Any]], stop: threading.Event):
    """One locate_batch call for the unit when the grounder has it; one by one otherwise, or when the batch fails
    (which then records each sample's own error)."""
    if batch is not None and len(pairs) > 1:
        start = time.perf_counter()
        try:
            predictions = list(batch([image for _, image in pairs], [s.instruction for s, _ in pairs]))
            if len(predictions) != len(pairs):
                raise BackendError(f"locate_batch returned {len(predictions)} answers for {len(pairs)} instructions")
        except Exception:  # noqa: BLE001 -- retried one by one below
            predictions = None
        if predictions is not None:
            share = (time.perf_counter() - start) / len(pairs)
            for (sample, image), prediction in zip(pairs, predictions):
                yield _checked(sample, prediction, getattr(prediction, "elapsed_s", 0.0) or share, image.size)
            return
    for sample, image in pairs:
        if stop.is_set():
            return
        start = time.perf_counter()
        try:
            prediction = grounder.locate(image, sample.instruction)
        except Exception as exc:  # noqa: BLE001 -- one sample's failure is recorded, the run goes on
            yield Outcome.failed(sample, exc, image.size), exc
            continue
        yield _checked(sample, prediction, time.perf_counter() - start, image.size)


def _checked(sample: Sample, prediction: Any, elapsed_s: float, size: tuple[int, int]):
    if not isinstance(prediction, Prediction):
        exc = TypeError(f"grounder returned {type(prediction).__name__}, not a Prediction")
        return Outcome.failed(sample, exc, size), exc
    return Outcome.of(sample, prediction, elapsed_s, size), None


class _Progress:
    """A rich progress bar on stderr with rate, ETA and the accuracy so far; silent when disabled."""

    def __init__(self, enabled: bool, total: int, already: int, model: str) -> None:
        self.enabled = enabled
        self.total, self.already, self.model = total, already, model
        self.seen = 0
        self.correct = 0

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(stderr=True), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.model, total=self.total, completed=self.already, rate="", note="")
        return self

    def advance(self, correct: bool) -> None:
        if not self.enabled:
            return
        self.seen += 1
        self.correct += correct
        task = self._bar.tasks[0]
        self._bar.update(self._task, advance=1)
        rate = f"{task.speed:.2f}/s" if task.speed else ""
        self._bar.update(self._task, rate=rate, note=f"accuracy {self.correct / self.seen:.1%} of {self.seen} new")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._bar.stop()
