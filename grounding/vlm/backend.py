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

from ..errors import BackendError, ImageError, OptionError
from ..geometry import Box
from ..inputs import prepare
from ..types import Prediction, Status, TraceStep
from .families import Family, answer_in_space, get_family, model_to_image, smart_resize
from .loading import CHATML_TEMPLATE, load_checkpoint, pixel_bounds


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


class VLMGrounder:
    """A Qwen-VL-architecture checkpoint read with one family's conventions.

    Options: `family` (prompt, parser, coordinate space), `model` (local directory or hub id; default the family's
    first model), `device` (cuda, cuda:1, cpu, auto; default cuda when present), `dtype` (default bf16 on CUDA,
    fp32 on CPU), `min_pixels` / `max_pixels` (bounds of the resized image; default the checkpoint's processor or
    the family's reference setting), `max_new_tokens`, `batch_size` (samples per generate call in `locate_batch`).
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
        max_new_tokens: int = 64,
        batch_size: int = 4,
    ) -> None:
        for option, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels),
                              ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise OptionError(f"{option} must be a positive integer, got {value!r}")
        self.family: Family = get_family(family)
        self.model_id = model or self.family.default_model
        self.name = f"{self.family.name}:{self.model_id}"
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self._loaded = load_checkpoint(self.model_id, device, dtype)
        self.bounds = pixel_bounds(self._loaded.image_processor, self.family, min_pixels, max_pixels)
        self._lock = threading.Lock()  # one generate at a time: eval workers may share this grounder
        tokenizer = self._loaded.tokenizer
        self._image_token = tokenizer.convert_ids_to_tokens(self._loaded.model.config.image_token_id)
        self._stop_ids = _stop_ids(self._loaded.model, tokenizer)

    @property
    def device(self) -> str:
        return self._loaded.device

    @property
    def preferred_max_pixels(self) -> int:
        """The zoom loop sends no more than this: the processor would shrink a larger image anyway."""
        return self.bounds.max_pixels

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
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
        b = self.bounds
        try:
            model_h, model_w = smart_resize(height, width, b.factor, b.min_pixels, b.max_pixels)
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

        loaded, b = self._loaded, self.bounds
        vision = loaded.image_processor(
            images=[request.image for request in chunk],
            size={"shortest_edge": b.min_pixels, "longest_edge": b.max_pixels},
            return_tensors="pt",
        )
        texts = []
        for request, (t, h, w) in zip(chunk, vision["image_grid_thw"].tolist()):
            seen = (w * b.patch_size, h * b.patch_size)
            if seen != request.model_size:  # the prompt told the model a size it did not get: every answer would be off
                raise BackendError(f"the image processor resized to {seen}, not the {request.model_size} the "
                                   "prompt states; its resize differs from smart_resize")
            tokens = t * h * w // (b.merge_size ** 2)
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
        answer = self.family.parse(raw)
        if answer is None or not answer_in_space(answer, self.family, request.model_size):
            return Prediction.wrong_format(raw, elapsed_s=elapsed, tokens=tokens, extra=extra)
        point, box = model_to_image(answer, self.family, request.model_size, request.image.size)
        score = min(1.0, max(0.0, output.score))
        whole = Box(0, 0, *request.image.size)
        step = TraceStep("full", whole, scale=request.model_size[0] / request.image.size[0], raw=raw, point=point,
                         score=score)
        return Prediction(point=point, box=box, score=score, raw=raw, elapsed_s=elapsed, trace=(step,),
                          tokens=tokens, extra=extra)


def _stop_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    for value in (model.generation_config.eos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(v) for v in value)
    return frozenset(ids)
