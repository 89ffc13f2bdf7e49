"""Running a grounder over a dataset: `evaluate` ties the pipeline, the journal, the progress bar and the results.

Every finished sample is appended to the journal and flushed, so a killed run loses only the samples in flight.
Journal lines carry the fingerprint of the model configuration; `resume=True` reuses the lines of the same
fingerprint (except errors, which are retried) and runs only the rest. Ctrl-C keeps what finished.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..types import Grounder, revision_of
from . import scoring
from .datasets import Dataset
from .journal import Journal, fingerprint
from .pipeline import Interrupted, default_workers, run
from .progress import Progress
from .records import correctness
from .results import Results


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
    model = grounder.name
    fp = fingerprint or _fallback_fingerprint(model, dataset, revision_of(grounder))
    journal = Journal(journal_path, fp, resume) if journal_path is not None else None
    by_id = {s.id: s for s in samples}
    finished = {k: v for k, v in (journal.done if journal else {}).items() if k in by_id}
    resumed = len(finished)
    todo = [s for s in samples if s.id not in finished]
    interrupted = False
    outcomes = run(grounder, todo, workers or default_workers(grounder))
    try:
        with Progress(progress, len(samples), resumed, model) as bar:
            for outcome in outcomes:
                finished[outcome.id] = outcome
                if journal:
                    journal.append(outcome)
                bar.advance(correctness(by_id[outcome.id], outcome) == scoring.CORRECT)
    except (KeyboardInterrupt, Interrupted):
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
