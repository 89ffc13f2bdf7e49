"""The pipeline of an evaluation: a loader thread decodes screenshots a little ahead of the workers, workers ground
whole screenshot groups (so a grounder's per-image cache is warm), outcomes stream back in finishing order.

A grounder with the `Batching` capability gets whole screenshot groups bundled up to its `batch_size`; one with
`Parallel` says how many workers to start. A run of backend failures stops it: the backend is down.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, GroundingError
from ..inputs import load_image, unrelated_images
from ..types import Batching, Grounder, Parallel, Prediction
from .datasets import Sample
from .records import Outcome, describe

# This many backend failures in a row means the backend is down, not that some samples are hard: stop the run.
MAX_BACKEND_FAILURES_IN_A_ROW = 8
_DONE = object()


def default_workers(grounder: Grounder) -> int:
    """A `Parallel` grounder says how many calls it serves at once; local models get one worker per two cores, since
    they already use several threads per call (and the image loader thread overlaps decoding with their work)."""
    if isinstance(grounder, Parallel) and grounder.parallelism > 0:
        return grounder.parallelism
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def by_image(samples: Iterable[Sample]) -> list[list[Sample]]:
    """Samples grouped by screenshot, groups in order of first appearance."""
    groups: dict[Path, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.image_path, []).append(sample)
    return list(groups.values())


class Interrupted(Exception):
    """A worker's grounder raised KeyboardInterrupt: the run stops as for Ctrl-C."""


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


def run(grounder: Grounder, todo: Sequence[Sample], workers: int):
    """Yields outcomes as workers finish them; stops the threads when the consumer stops (Ctrl-C included)."""
    if not todo:
        return
    batch = grounder.locate_batch if isinstance(grounder, Batching) else None
    units = units_of_work(todo, grounder.batch_size if batch else 1)
    workers = max(1, min(workers, len(units)))
    stop = threading.Event()
    loaded: queue.Queue = queue.Queue(maxsize=workers + 1)  # decoded images waiting: bounded, 4K frames are large
    # Bounded too, so a worker is at most a step ahead of the consumer: when the consumer stops the run (a dead
    # backend, Ctrl-C), no worker has raced on through the rest of a screenshot group meanwhile.
    results: queue.Queue = queue.Queue(maxsize=workers)

    def put(into: queue.Queue, item: Any) -> bool:
        while not stop.is_set():
            try:
                into.put(item, timeout=0.1)
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
            if not put(loaded, item):
                return
        for _ in range(workers):
            put(loaded, _DONE)

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
                            put(results, (Outcome.failed(sample, error), error))
                for outcome_and_exc in _locate_unit(grounder, batch, pairs, stop):
                    put(results, outcome_and_exc)
        except KeyboardInterrupt:
            put(results, Interrupted())
        finally:
            put(results, _DONE)

    threads = [threading.Thread(target=load_images, name="eval-loader", daemon=True)]
    threads += [threading.Thread(target=work, name=f"eval-worker-{i}", daemon=True) for i in range(workers)]
    # Each screenshot is answered on its own, whatever ran before it (an OCR reading is not carried over from a like
    # screenshot), so a sample scores the same in a full run, a filtered one or a resumed one.
    with unrelated_images():
        yield from _collect(threads, results, workers, stop)


def _collect(threads: list[threading.Thread], results: queue.Queue, workers: int, stop: threading.Event):
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
            if isinstance(item, Interrupted):
                raise item
            outcome, exc = item
            failures_in_a_row = failures_in_a_row + 1 if isinstance(exc, BackendError) else 0
            yield outcome
            if failures_in_a_row >= MAX_BACKEND_FAILURES_IN_A_ROW:
                raise BackendError(
                    f"stopped after {failures_in_a_row} backend failures in a row; the last: {describe(exc)}"
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
