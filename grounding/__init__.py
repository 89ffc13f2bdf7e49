"""screenground's grounding layer: screenshot + instruction -> the pixel to act on.

    import grounding
    from PIL import Image
    prediction = grounding.load("ocr").locate(Image.open("shot.png"), "open the File menu")
    print(prediction.point)
"""

from .errors import BackendError, GroundingError, ImageError, InstructionError, OptionError, UnknownModelError
from .geometry import Box, Point, Transform
from .inputs import load_image
from .loading import load
from .registry import available, register
from .types import Grounder, Prediction, Status, TraceStep

__all__ = [
    "BackendError",
    "Box",
    "Grounder",
    "GroundingError",
    "ImageError",
    "InstructionError",
    "OptionError",
    "Point",
    "Prediction",
    "Status",
    "TraceStep",
    "Transform",
    "UnknownModelError",
    "available",
    "load",
    "load_image",
    "register",
]
