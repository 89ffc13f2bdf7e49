"""ONNX Runtime sessions on the CPU, set up once for every model the offline grounders run.

Each session keeps ONNX Runtime's memory arena but shrinks it at the end of every run. Without an arena every
intermediate tensor is a fresh allocation whose pages the kernel maps and zeroes again, which made the first
detection on a 1080p screen take 0.78 s instead of 0.45 s. With a plain arena a 4K screen's activations stay held
for the life of the process. Shrinking after each run gives the speed of the first and the memory of neither: after
detecting and reading one 1080p screen the process held 260-300 MB instead of 350-390 MB without an arena.
Importing this module does not import onnxruntime.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BackendError


def threads() -> int:
    # All cores up to 4: the PP-OCR mobile models and the icon encoder stop scaling there, and eval runs several
    # locates in threads.
    return max(1, min(4, os.cpu_count() or 1))


class Session:
    """One model's CPU session: `run({input name: array})` returns its outputs."""

    def __init__(self, path: str | Path, needed_by: str) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise BackendError(f"{needed_by} needs onnxruntime: {exc}") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        # ONNX Runtime's threads spin between ops by default, which starves other threads and processes on a busy
        # machine (eval workers, a desktop agent); ours wait without spinning.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self._shrink = onnxruntime.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    @property
    def metadata(self) -> dict[str, str]:
        return self.session.get_modelmeta().custom_metadata_map

    def run(self, feeds: dict[str, np.ndarray]) -> list[Any]:
        return self.session.run(None, feeds, self._shrink)

    def __call__(self, array: np.ndarray) -> list[Any]:
        """The outputs for one array fed to the model's first input (what RapidOCR's classes call a session)."""
        return self.run({self.input: array})
