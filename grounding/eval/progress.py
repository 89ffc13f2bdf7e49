"""The progress bar of an evaluation."""

from __future__ import annotations


class Progress:
    """A rich progress bar on stderr with rate, ETA and the accuracy so far; silent when disabled."""

    def __init__(self, enabled: bool, total: int, already: int, model: str) -> None:
        self.enabled = enabled
        self.total, self.already, self.model = total, already, model
        self.seen = 0
        self.correct = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

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
