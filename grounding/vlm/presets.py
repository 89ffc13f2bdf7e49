"""The registered names: one per family (its default model) and one per known model id (a preset is data)."""

from __future__ import annotations

from ..registry import register
from .backend import VLMGrounder
from .families import FAMILIES


def preset_name(model_id: str) -> str:
    """'Salesforce/GTA1-7B' -> 'gta1-7b', 'Qwen/Qwen2.5-VL-7B-Instruct' -> 'qwen2.5-vl-7b'."""
    return model_id.rsplit("/", 1)[-1].lower().removesuffix("-instruct")


for _family in FAMILIES.values():
    register(
        _family.name,
        description=f"{_family.description} (transformers; default --model-path {_family.default_model})",
        family=_family.name,
    )(VLMGrounder)
    for _model in _family.models:
        register(preset_name(_model), description=f"{_model} ({_family.name} family, transformers)",
                 family=_family.name, model=_model)(VLMGrounder)
