"""The registered names: one per family (its default model) and one per known model id (a preset is data).

Presets that were dropped stay listed, each with the reason, so `ground models` and `--model NAME` say why rather
than "unknown model".
"""

from __future__ import annotations

from ..errors import UnknownModelError
from ..registry import register
from .backend import VLMGrounder
from .families import FAMILIES

# name -> why it is gone (sources: Yan98/GTA1 README.md, which lists GTA1-7B, GTA1-32B and GTA1-7B-2507 only;
# xlang-ai/OpenCUA README.md on the OpenCUA models' own tokenizer, chat template and 1D RoPE).
DROPPED = {
    "gta1-7b": "Salesforce/GTA1-7B is now the October 2025 GTA1, built on OpenCUA (Kimi-VL tokenizer and chat "
    "template, 1D RoPE, remote code), which the Qwen-VL loader cannot run; the Qwen2.5-VL grounder with the "
    "element-locator prompt is gta1-7b-2507",
    "gta1-32b": "Salesforce/GTA1-32B is built on OpenCUA-32B (Kimi-VL tokenizer and chat template, 1D RoPE, remote "
    "code), which the Qwen-VL loader cannot run",
    "gta1-72b": "no Salesforce/GTA1-72B is published (the authors list GTA1-7B, GTA1-32B and GTA1-7B-2507)",
}


def preset_name(model_id: str) -> str:
    """'Salesforce/GTA1-7B-2507' -> 'gta1-7b-2507', 'Qwen/Qwen2.5-VL-7B-Instruct' -> 'qwen2.5-vl-7b'."""
    return model_id.rsplit("/", 1)[-1].lower().removesuffix("-instruct")


def _dropped(name: str, reason: str):
    def refuse(**_options: object) -> VLMGrounder:
        raise UnknownModelError(f"{name} was dropped: {reason}")

    return refuse


for _family in FAMILIES.values():
    register(
        _family.name,
        description=f"{_family.description} (transformers; default --model-path {_family.default_model})",
        family=_family.name,
    )(VLMGrounder)
    for _model in _family.models:
        if preset_name(_model) != _family.name:
            register(preset_name(_model), description=f"{_model} ({_family.name} family, transformers)",
                     family=_family.name, model=_model)(VLMGrounder)

for _name, _reason in DROPPED.items():
    register(_name, description=f"dropped: {_reason}")(_dropped(_name, _reason))
