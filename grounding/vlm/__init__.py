"""Open vision-language grounding models run with Hugging Face transformers.

`families` holds each family's prompt, resize, answer syntax and coordinate space (pure Python, shared with the HTTP
client and `ground serve`), built from `prompts`, `resize`, `answers` and `spaces`; `backend` runs a checkpoint with
a family; `presets` registers the names. Importing this package imports neither torch nor transformers.
"""

from . import presets  # noqa: F401  (registers the names)
from .answers import Answer
from .backend import VLMGrounder
from .families import FAMILIES, Family, get_family

__all__ = ["FAMILIES", "Answer", "Family", "VLMGrounder", "get_family"]
