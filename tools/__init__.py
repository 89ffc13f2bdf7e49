"""Tools over screenshots that the zoom loop uses and that a model may call: crop, zoom, and run_python (a sandbox)."""

from .image import View, crop, crop_box, window, zoom
from .sandbox import IsolationUnavailable, RunResult, isolation, run_python

__all__ = ["IsolationUnavailable", "RunResult", "View", "crop", "crop_box", "isolation", "run_python", "window", "zoom"]
