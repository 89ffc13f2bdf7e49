"""Offline scoring on ScreenSpot-style datasets: loaders, the official scoring, a resumable runner, reports.

    from grounding.eval import load_dataset, evaluate
    results = evaluate(grounding.load("ocr"), load_dataset("ScreenSpot-Pro"), journal_path="run.jsonl")
    print(results.summary()["accuracy"])
"""

from .datasets import Dataset, Problem, Sample, load_dataset, parse_filters
from .journal import fingerprint
from .records import Outcome
from .results import Results
from .runner import evaluate

__all__ = [
    "Dataset",
    "Outcome",
    "Problem",
    "Results",
    "Sample",
    "evaluate",
    "fingerprint",
    "load_dataset",
    "parse_filters",
]
