"""The `openai` backend: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, a hosted model, `ground serve`).

The prompt, resize, answer parser and coordinate space come from a model family (`grounding.vlm.families`), the same
ones the transformers backends use: the screenshot is resized as the family's reference inference resizes it, sent
as a PNG data URL with the family's messages, and the answer is mapped back into the caller's pixels through
`Transform`s. A server whose own processor resizes the image again is caught by its token count (see
`check_image_tokens`). The transport (`grounding.chat`) uses several base URLs round-robin, with timeouts and retries.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from .base import BaseGrounder
from .chat import ChatClient, completion_message, data_url, usage, with_image
from .errors import BackendError, ImageError, OptionError
from .registry import register
from .types import Prediction, Status
from .vlm.families import Family, get_family
from .vlm.resize import Resize

DEFAULT_FAMILY = "qwen2.5-vl"
# Tokens a chat template adds around the text we send (role markers, vision markers, a default system prompt).
TEMPLATE_TOKENS = 64


@register("openai", description="an OpenAI-compatible chat endpoint (vLLM, SGLang, `ground serve`, hosted models)")
class OpenAIGrounder(BaseGrounder):
    """Grounding over the chat-completions protocol with a model family's prompt, resize, parser and coordinate space.

    `resize=False` sends the screenshot at its own size and reads resized-abs answers as its pixels: what a
    `ground serve` endpoint (which accepts any size) needs for answers exact to the pixel. `tools=True` runs the
    agentic loop (`grounding.agentic`): the model may crop, zoom and run Python before it answers; Python only where
    its sandbox isolates the code, or with `allow_unisolated_python=True`.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | Sequence[str] | None = None,
        api_key: str | None = None,
        model_name: str | None = None,
        family: str = DEFAULT_FAMILY,
        max_pixels: int | None = None,
        min_pixels: int | None = None,
        resize: bool = True,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        concurrency: int = 8,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        tools: bool = False,
        max_steps: int = 6,
        python_timeout_s: float = 10.0,
        allow_unisolated_python: bool = False,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        if not urls:
            raise OptionError("the openai backend needs an endpoint: --base-url http://HOST:PORT/v1")
        for url in urls:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise OptionError(f"--base-url must start with http:// or https://, got {url!r}")
        self.family: Family = get_family(family)
        max_tokens = max_tokens or self.family.max_new_tokens
        _check_positive(timeout_s=timeout_s, concurrency=concurrency, max_tokens=max_tokens, max_steps=max_steps,
                        python_timeout_s=python_timeout_s)
        if retries < 0 or backoff_s < 0:
            raise OptionError("retries and backoff_s must not be negative")
        self.image_resize: Resize = self.family.resize.bounded(min_pixels, max_pixels)
        self.model_name = model_name
        self.resize = bool(resize)
        self.max_tokens, self.temperature = max_tokens, temperature
        self.tools, self.max_steps, self.python_timeout_s = bool(tools), max_steps, python_timeout_s
        self.allow_unisolated_python = bool(allow_unisolated_python)
        if self.tools:
            from .agentic import warn_if_python_off

            warn_if_python_off(self.allow_unisolated_python)
        self.concurrency = concurrency
        # Requests in flight at once: as eval workers (`Parallel`) and as samples per `locate_batch` (`Batching`).
        self.parallelism = self.batch_size = concurrency
        self.client = ChatClient(
            urls, api_key if api_key is not None else os.environ.get("OPENAI_API_KEY"),
            timeout_s=timeout_s, retries=retries, backoff_s=backoff_s, concurrency=concurrency,
        )
        self._name_lock = threading.Lock()

    @property
    def pixel_budget(self) -> int:
        """Most pixels an image sent to the model has (the family's, or --max-pixels)."""
        return self.image_resize.max_pixels

    def served_model(self) -> str:
        """--model-name, or the first model the endpoint lists (vLLM and `ground serve` serve one)."""
        with self._name_lock:
            if self.model_name is None:
                models = self.client.get("/models").get("data") or []
                if not models or not isinstance(models[0], dict) or "id" not in models[0]:
                    raise BackendError("the endpoint lists no models; give --model-name")
                self.model_name = str(models[0]["id"])
            return self.model_name

    def model_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The size the model gets the screenshot at."""
        if not self.resize:
            return size
        try:
            return self.image_resize.size(*size)
        except ValueError as exc:  # an aspect ratio the family's processor refuses
            raise ImageError(str(exc)) from None

    def chat(
        self, messages: list[dict], *, sent_size: tuple[int, int] | None = None, **extra: Any
    ) -> tuple[dict, dict]:
        """One chat completion: (the assistant message, the whole response body).

        `sent_size`: the size of the one image in `messages`, resized for the family; the server's token count is
        then checked against it.
        """
        payload = {"model": self.served_model(), "messages": messages, "max_tokens": self.max_tokens,
                   "temperature": self.temperature, **extra}
        body = self.client.post("/chat/completions", payload)
        if sent_size is not None and self.resize:
            self.check_image_tokens(body, payload, sent_size)
        return completion_message(body), body

    def check_image_tokens(self, body: dict, payload: dict, sent_size: tuple[int, int]) -> None:
        """BackendError when the server saw the screenshot at another size than the one sent.

        A server whose processor has a smaller max_pixels (or a larger min_pixels) resizes the image again, and
        answers in absolute pixels are then off by that ratio with nothing to show for it. The prompt tokens it
        reports hold the image's tokens plus the text's; the text is at most one token per byte (plus the chat
        template's markers), so a count below the image's tokens, or above image and all text together, means the
        image was resized. Endpoints that report no prompt tokens (`ground serve`) are not checked.
        """
        reported = usage(body).get("prompt_tokens")
        if not isinstance(reported, int) or isinstance(reported, bool) or reported <= 0:
            return
        expected = self.image_resize.image_tokens(sent_size)
        most = expected + _text_bytes(payload) + TEMPLATE_TOKENS
        width, height = sent_size
        side = self.image_resize.factor
        if reported < expected:
            raise BackendError(
                f"the endpoint resized the screenshot behind our back: it counted {reported:,} prompt tokens for a "
                f"{width}x{height} image of {expected:,} image tokens, so its answers would be in another image's "
                f"pixels; raise the server's max_pixels to {width * height:,} or pass --max-pixels below "
                f"{reported * side * side:,}"
            )
        if reported > most:
            raise BackendError(
                f"the endpoint enlarged the screenshot behind our back: it counted {reported:,} prompt tokens, more "
                f"than the {expected:,} image tokens of the {width}x{height} image sent and all of the prompt's text; "
                f"lower the server's min_pixels to {width * height:,} or pass -O min_pixels=N with the server's N"
            )

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        if self.tools:
            from .agentic import locate_with_tools

            return locate_with_tools(self, image, instruction)
        return self._locate_once(image, instruction)

    def _locate_once(self, image: Image.Image, instruction: str) -> Prediction:
        size = self.model_size(image.size)
        seen = image if size == image.size else image.resize(size, Image.Resampling.BICUBIC)
        messages = with_image(self.family.messages(instruction, *size), data_url(seen))
        message, body = self.chat(messages, sent_size=size)
        return self.read_answer(str(message.get("content") or ""), size, image.size, body)

    def read_answer(
        self, text: str, model_size: tuple[int, int], image_size: tuple[int, int], body: dict
    ) -> Prediction:
        """The family's answer text as a Prediction in the caller's pixels: not_found when the family (or a
        `ground serve` endpoint) says the target is not there, wrong_format when there is no point in its space."""
        tokens = int(usage(body).get("total_tokens") or 0)
        extension = _extension(body)  # `ground serve` says when its grounder found nothing, and how sure it was
        score = extension.get("score")
        score = min(1.0, max(0.0, float(score))) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0
        if extension.get("status") == Status.NOT_FOUND.value:
            return Prediction.not_found(raw=text, score=score, tokens=tokens)
        reading = self.family.read(text, model_size, image_size)
        if reading.status is Status.NOT_FOUND:
            return Prediction.not_found(raw=text, score=score, tokens=tokens)
        if reading.point is None:
            return Prediction.wrong_format(text, tokens=tokens)
        return Prediction(point=reading.point, box=reading.box, score=score, raw=text, tokens=tokens)

    def locate_batch(self, images: Sequence[Image.Image], instructions: Sequence[str]) -> list[Prediction]:
        """Several requests in flight at once (at most `concurrency`), answers in the order asked."""
        if len(images) != len(instructions):
            raise ValueError(f"{len(images)} images for {len(instructions)} instructions")
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(images)))) as pool:
            return list(pool.map(self.locate, images, instructions))


def _text_bytes(payload: dict) -> int:
    """Bytes of all the text a chat template will render from the request (messages and tools): an upper bound on
    its tokens, since a byte-level BPE token holds at least one byte."""
    texts = [json.dumps(payload["tools"])] if payload.get("tools") else []
    for message in payload["messages"]:
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        texts += [part["text"] for part in parts if part.get("type") == "text"]
        if message.get("tool_calls"):
            texts.append(json.dumps(message["tool_calls"]))
    return sum(len(text.encode()) for text in texts) + 8 * len(payload["messages"])


def _extension(body: dict) -> dict:
    try:
        extension = body["choices"][0].get("screenground")
    except (KeyError, IndexError, TypeError, AttributeError):
        return {}
    return extension if isinstance(extension, dict) else {}


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            raise OptionError(f"{name} must be a positive number, got {value!r}")
