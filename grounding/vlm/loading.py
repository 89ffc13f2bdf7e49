"""Finding and loading a checkpoint: local directory or hub id, device, precision, tokenizer, image processor.

torch and transformers are imported inside the functions, so importing this module costs nothing. Weights are
never downloaded implicitly (a 7B checkpoint is 16 GB): a hub id must already be in the Hugging Face cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BackendError, OptionError

# Used when a checkpoint ships no chat template: ChatML, as the Qwen-VL checkpoints write it.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_DTYPES = {
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "float32": "float32", "fp32": "float32", "float": "float32",
}


def _missing(model: str) -> BackendError:
    return BackendError(f"weights for {model} not found locally; download them with `huggingface-cli download {model}`")


def resolve_weights(model: str) -> Path:
    """The directory holding `model`: a local checkpoint directory, or a hub id found in the Hugging Face cache
    (HF_HOME / HF_HUB_CACHE are honoured; nothing is fetched, so HF_HUB_OFFLINE=1 changes nothing)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BackendError(f"{path} is not a model checkpoint (it has no config.json)")
        return path
    if path.exists():
        raise BackendError(f"model path is not a directory: {path}")
    if model.startswith((".", "/", "~")) or model.count("/") != 1 or "\\" in model:
        raise BackendError(f"model directory not found: {model}")
    from huggingface_hub import snapshot_download

    try:
        found = Path(snapshot_download(model, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, partly cached, or not a valid id: the fix is the same download command
        raise _missing(model) from None
    if not (found / "config.json").is_file():
        raise _missing(model)
    return found


def pick_device(device: str | None) -> str:
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "auto":  # spread a large model over every visible GPU
        return device
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise OptionError(f"unknown device {device!r} (cuda, cuda:1, cpu, auto)") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} requested but CUDA is not available on this machine")
    return device


def pick_dtype(dtype: str | None, device: str) -> Any:
    import torch

    if dtype is None:
        if device == "cpu":
            return torch.float32  # bf16 matmuls are slow or unsupported on many CPUs
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    name = _DTYPES.get(str(dtype).lower().removeprefix("torch."))
    if name is None:
        raise OptionError(f"unknown dtype {dtype!r} (bfloat16, float16, float32)")
    return getattr(torch, name)


def patch_factor(image_processor: Any) -> int:
    """Pixels per side of one image token (patch size x merge size): the architecture, read from the processor."""
    return int(getattr(image_processor, "patch_size", 0) or 14) * int(getattr(image_processor, "merge_size", 0) or 2)


def _processor_chat_template(path: Path) -> str | None:
    """Many VL checkpoints keep their chat template beside the processor (chat_template.json), where the
    tokenizer does not look; without it the checkpoint's default system prompt would be lost."""
    jinja, legacy = path / "chat_template.jinja", path / "chat_template.json"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    if legacy.is_file():
        try:
            return json.loads(legacy.read_text(encoding="utf-8")).get("chat_template")
        except (ValueError, AttributeError):
            return None
    return None


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    image_processor: Any
    device: str
    dtype: Any
    path: Path


def load_checkpoint(model: str, device: str | None, dtype: str | None) -> Loaded:
    """Model, tokenizer and image processor of a checkpoint.

    The full `AutoProcessor` is not used: without torchvision it cannot be built for Qwen-VL checkpoints (it
    insists on a video processor), while tokenizer + image processor work everywhere, so one path serves both.
    """
    path = resolve_weights(model)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    try:
        from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise BackendError(
            f"the vlm backends need torch and transformers ({exc}); pip install 'screenground[vlm]'"
        ) from None
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # a local load takes seconds; its bars would clutter CLI output
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        image_processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        kwargs: dict[str, Any] = {"dtype": torch_dtype, "local_files_only": True}
        if device == "auto":
            kwargs["device_map"] = "auto"
        network = AutoModelForImageTextToText.from_pretrained(path, **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"cannot load {model} from {path}: {first_line}") from None
    finally:
        if bars:
            transformers_logging.enable_progress_bar()
    if device != "auto":
        network = network.to(device)
    network.eval()
    if not tokenizer.chat_template:
        tokenizer.chat_template = _processor_chat_template(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return Loaded(network, tokenizer, image_processor, device, torch_dtype, path)
