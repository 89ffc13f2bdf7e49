"""The transformers backend shared by every family: prompt -> generate -> parse -> map to the caller's pixels.

A family (`families.py`) says how to prompt and read a model; this module runs any Qwen-VL-architecture checkpoint
with it. The model sees the caller's image (a full screenshot or a crop the zoom loop handed in) after the
processor's smart resize; answers are mapped back to that image's pixels.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..base import BaseGrounder
from ..errors import BackendError, ImageError, OptionError
from ..geometry import Box
from ..inputs import prepare
from ..types import Prediction, Status, TraceStep
from .families import Family, get_family
from .loading import CHATML_TEMPLATE, load_checkpoint, patch_factor


@dataclass(frozen=True)
class _Request:
    image: Image.Image
    model_size: tuple[int, int]  # (W', H') the model sees
    prompt: str


@dataclass(frozen=True)
class _Output:
    text: str
    prompt_tokens: int
    generated_tokens: int
    score: float


class VLMGrounder(BaseGrounder):
    """A Qwen-VL-architecture checkpoint read with one family's conventions.

    Options: `family` (prompt, resize, parser, coordinate space), `model` (local directory or hub id; default the
    family's first model), `device` (cuda, cuda:1, cpu, auto; default cuda when present), `dtype` (default bf16 on
    CUDA, fp32 on CPU), `min_pixels` / `max_pixels` (the caller's pixel budget in place of the family's reference
    resize), `max_new_tokens` (default the family's), `batch_size` (samples per generate call in `locate_batch`).

    The screenshot is resized exactly as the family's reference inference resizes it, the same over HTTP, so both
    paths show a model the same image; the checkpoint's processor only supplies the patch size, and must agree.
    """

    # For `ground eval`: one worker; generate calls are serialised anyway, batching is where the parallelism is.
    parallelism = 1

    def __init__(
        self,
        *,
        family: str = "qwen2.5-vl",
        model: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        max_new_tokens: int | None = None,
        batch_size: int = 4,
    ) -> None:
        for option, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels),
                              ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise OptionError(f"{option} must be a positive integer, got {value!r}")
        self.family: Family = get_family(family)
        self.model_id = model or self.family.default_model
        self.name = f"{self.family.name}:{self.model_id}"
        self.max_new_tokens = max_new_tokens or self.family.max_new_tokens
        self.batch_size = batch_size
        self.resize = self.family.resize.bounded(min_pixels, max_pixels)
        self._loaded = load_checkpoint(self.model_id, device, dtype)
        factor = patch_factor(self._loaded.image_processor)
        if factor != self.resize.factor:
            raise BackendError(f"{self.model_id} sees the image in {factor}-pixel tokens, the {self.family.name} "
                               f"family in {self.resize.factor}-pixel ones: is --family right for it?")
        self._lock = threading.Lock()  # one generate at a time: eval workers may share this grounder
        tokenizer = self._loaded.tokenizer
        self._image_token = tokenizer.convert_ids_to_tokens(self._loaded.model.config.image_token_id)
        self._stop_ids = _stop_ids(self._loaded.model, tokenizer)

    @property
    def device(self) -> str:
        return self._loaded.device

    @property
    def preferred_max_pixels(self) -> int:
        """The zoom loop sends no more than this: the resize would shrink a larger image anyway."""
        return self.resize.max_pixels

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        return self.locate_batch([image], [instruction])[0]

    def locate_batch(self, images: Sequence[Image.Image], instructions: Sequence[str]) -> list[Prediction]:
        """One prediction per (image, instruction), generated `batch_size` at a time."""
        if len(images) != len(instructions):
            raise ValueError(f"{len(images)} images but {len(instructions)} instructions")
        requests = [self._request(*prepare(image, instruction)) for image, instruction in zip(images, instructions)]
        predictions: list[Prediction] = []
        for start in range(0, len(requests), self.batch_size):
            predictions.extend(self._run_chunk(requests[start:start + self.batch_size]))
        return predictions

    # ------------------------------------------------------------------------------------------------- internals

    def _request(self, image: Image.Image, instruction: str) -> _Request:
        width, height = image.size
        try:
            model_w, model_h = self.resize.size(width, height)
        except ValueError as exc:
            raise ImageError(f"{width}x{height} image: {exc}") from None
        messages = self.family.messages(instruction, model_w, model_h)
        tokenizer = self._loaded.tokenizer
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True,
            chat_template=None if tokenizer.chat_template else CHATML_TEMPLATE,
        )
        return _Request(image, (model_w, model_h), text + self.family.answer_prefix)

    def _run_chunk(self, chunk: list[_Request]) -> list[Prediction]:
        import torch

        started = time.perf_counter()
        try:
            outputs = self._generate(chunk)
        except torch.OutOfMemoryError as exc:
            if len(chunk) > 1:  # a smaller batch may fit
                half = len(chunk) // 2
                return self._run_chunk(chunk[:half]) + self._run_chunk(chunk[half:])
            torch.cuda.empty_cache()
            message = str(exc).splitlines()[0] if str(exc) else "out of memory"
            return [Prediction(point=None, status=Status.ERROR, raw=message,
                               elapsed_s=time.perf_counter() - started)]
        elapsed = (time.perf_counter() - started) / len(chunk)
        return [self._prediction(request, output, elapsed) for request, output in zip(chunk, outputs)]

    def _generate(self, chunk: list[_Request]) -> list[_Output]:
        import torch

        loaded = self._loaded
        vision = vision_inputs(loaded.image_processor, [request.image for request in chunk],
                               [request.model_size for request in chunk])
        texts = []
        for request, tokens in zip(chunk, vision.pop("image_tokens")):
            texts.append(request.prompt.replace(self._image_token, self._image_token * tokens, 1))
        text_inputs = loaded.tokenizer(
            texts, padding=True, padding_side="left", add_special_tokens=False, return_tensors="pt"
        )
        device = loaded.model.device
        inputs = {**text_inputs, **vision}
        inputs = {k: v.to(device) for k, v in inputs.items()}
        inputs["pixel_values"] = inputs["pixel_values"].to(loaded.model.dtype)
        with self._lock, torch.inference_mode():
            generated = loaded.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, temperature=None, top_p=None,
                top_k=None, return_dict_in_generate=True, output_scores=True,
                pad_token_id=loaded.tokenizer.pad_token_id,
            )
            logprobs = loaded.model.compute_transition_scores(
                generated.sequences, generated.scores, normalize_logits=True
            )
        prompt_length = inputs["input_ids"].shape[1]
        outputs = []
        for row, mask in enumerate(inputs["attention_mask"]):
            ids = generated.sequences[row, prompt_length:].tolist()
            stop = next((i for i, token in enumerate(ids) if token in self._stop_ids), len(ids))
            kept = ids[:stop]
            used = min(len(ids), stop + 1)  # the stop token was generated too
            mean = float(logprobs[row, :used].float().mean()) if used else -math.inf
            outputs.append(_Output(
                text=loaded.tokenizer.decode(kept, skip_special_tokens=False),
                prompt_tokens=int(mask.sum()),
                generated_tokens=used,
                score=math.exp(mean) if math.isfinite(mean) else 0.0,
            ))
        return outputs

    def _prediction(self, request: _Request, output: _Output, elapsed: float) -> Prediction:
        raw = self.family.answer_prefix + output.text
        tokens = output.prompt_tokens + output.generated_tokens
        extra = {"family": self.family.name, "model_size": list(request.model_size)}
        reading = self.family.read(raw, request.model_size, request.image.size)
        score = min(1.0, max(0.0, output.score))
        if reading.status is Status.NOT_FOUND:
            return Prediction.not_found(raw, score=score, elapsed_s=elapsed, tokens=tokens, extra=extra)
        if reading.point is None:
            return Prediction.wrong_format(raw, elapsed_s=elapsed, tokens=tokens, extra=extra)
        whole = Box(0, 0, *request.image.size)
        step = TraceStep("full", whole, scale=request.model_size[0] / request.image.size[0], raw=raw,
                         point=reading.point, score=score)
        return Prediction(point=reading.point, box=reading.box, score=score, raw=raw, elapsed_s=elapsed,
                          trace=(step,), tokens=tokens, extra=extra)


def vision_inputs(image_processor: Any, images: Sequence[Image.Image], sizes: Sequence[tuple[int, int]]) -> dict:
    """The image processor's inputs for images shown at `sizes` (the family's resize, already computed), plus
    `image_tokens`, the placeholder count per image.

    Each image is resized here, once, straight to its size (bicubic, as qwen_vl_utils and the processor do); the
    processor's bounds then span exactly those areas, so it keeps them. Its patch grid is checked against them: a
    prompt that states one size while the model sees another puts every answer off.
    """
    shown = [image if image.size == size else image.resize(size, Image.Resampling.BICUBIC)
             for image, size in zip(images, sizes)]
    areas = [width * height for width, height in sizes]
    vision = dict(image_processor(images=shown, size={"shortest_edge": min(areas), "longest_edge": max(areas)},
                                  return_tensors="pt"))
    patch, merge = int(image_processor.patch_size), int(image_processor.merge_size)
    tokens = []
    for size, (t, h, w) in zip(sizes, vision["image_grid_thw"].tolist()):
        if (w * patch, h * patch) != tuple(size):
            raise BackendError(f"the image processor resized {size[0]}x{size[1]} to {w * patch}x{h * patch}; "
                               "the prompt would state a size the model does not see")
        tokens.append(t * h * w // merge**2)
    vision["image_tokens"] = tokens
    return vision


def _stop_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    for value in (model.generation_config.eos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(v) for v in value)
    return frozenset(ids)
