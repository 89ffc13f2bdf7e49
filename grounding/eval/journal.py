"""The append-only journal of finished samples, keyed by the fingerprint of a model configuration, for --resume."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..types import Status
from .records import Outcome


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
