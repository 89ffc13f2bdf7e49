"""Tools over screenshots that the zoom loop uses and that a model may call: crop, zoom."""

from .image import View, crop, crop_box, window, zoom
from .sandbox import RunResult, run_python

__all__ = ["RunResult", "View", "crop", "crop_box", "run_python", "window", "zoom"]
