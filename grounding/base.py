"""What every grounder does on entry, done one way: `Grounder.locate` prepares the inputs and times the call, and the
backend's `answer` does the rest.

A backend subclasses `BaseGrounder` and implements `answer(image, instruction)`, which receives an RGB image and a
checked, normalised instruction (bad input has already raised `ImageError` / `InstructionError`) and returns a
Prediction in that image's pixels; `locate` sets its `elapsed_s` to the whole call, preparation included.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from PIL import Image

from .inputs import prepare
from .types import Prediction, Stopwatch


class BaseGrounder(ABC):
    name: str

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        with Stopwatch() as watch:
            image, instruction = prepare(image, instruction)
            prediction = self.answer(image, instruction)
        return prediction.with_(elapsed_s=watch.elapsed)

    @abstractmethod
    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        """The prediction for a prepared RGB image and instruction."""
