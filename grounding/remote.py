"""The `openai` backend: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, a hosted model, `ground serve`).

The prompt, answer parser and coordinate space come from a model family (`grounding.vlm.families`), the same ones
the transformers backends use: the screenshot is resized as the family's processor would resize it, sent as a PNG
data URL with the family's messages, and the answer is mapped back into the caller's pixels through `Transform`s.
Several base URLs are used round-robin; requests are bounded per client, time out, and are retried with backoff on
429, 5xx and connection failures before a `BackendError` says what happened.
"""

from __future__ import annotations

import base64
import io
import itertools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from PIL import Image

from .errors import BackendError, ImageError, OptionError
from .inputs import prepare
from .registry import register
from .types import Prediction, Status, Stopwatch
from .vlm.families import Family, get_family, model_to_image

DEFAULT_FAMILY = "qwen2.5-vl"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


def data_url(image: Image.Image) -> str:
    """A PNG data URL: lossless, so an endpoint sees exactly the pixels we resized."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def with_image(messages: list[dict], url: str) -> list[dict]:
    """The family's messages with its {"type": "image"} placeholder replaced by the screenshot's data URL."""
    filled = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = [
                {"type": "image_url", "image_url": {"url": url}} if part.get("type") == "image" else part
                for part in content
            ]
        filled.append({**message, "content": content})
    return filled


class ChatClient:
    """HTTP to one or more OpenAI-compatible endpoints: round-robin, bounded concurrency, timeouts, retries."""

    def __init__(
        self,
        base_urls: Sequence[str],
        api_key: str | None = None,
        *,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        concurrency: int = 8,
    ) -> None:
        self.base_urls = tuple(url.rstrip("/") for url in base_urls)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._next = itertools.cycle(self.base_urls)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._concurrency = concurrency
        self._client = None

    def _http(self):
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                    limits=httpx.Limits(max_connections=self._concurrency),
                    headers=self._headers,
                )
            return self._client

    def _base_url(self) -> str:
        with self._lock:
            return next(self._next)

    def get(self, path: str) -> dict:
        return self._request("GET", path, None)

    def post(self, path: str, payload: dict) -> dict:
        return self._request("POST", path, payload)

    def _request(self, method: str, path: str, payload: dict | None) -> dict:
        import httpx

        client = self._http()
        attempts = self.retries + 1
        last = ""
        for attempt in range(attempts):
            url = self._base_url() + path
            wait = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
            try:
                with self._slots:
                    response = client.request(method, url, json=payload)
            except httpx.TimeoutException:
                last = f"{url}: no answer within {self.timeout_s:g} s"
            except httpx.TransportError as exc:
                last = f"{url}: {_connection_problem(exc)}"
            else:
                if response.status_code < 400:
                    return _json_body(response, url)
                last = f"{url}: HTTP {response.status_code} {_error_message(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise BackendError(f"endpoint refused the request: {last}")
                wait = _retry_after(response, wait)
            if attempt + 1 < attempts:
                time.sleep(wait)
        raise BackendError(f"endpoint failed {attempts} time(s), giving up; last: {last}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _connection_problem(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return "connection refused (is the server running?)" if "refused" in text.lower() else text


def _json_body(response, url: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        raise BackendError(f"{url} answered with something that is not JSON: {snippet!r}") from None
    if not isinstance(body, dict):
        raise BackendError(f"{url} answered with JSON that is not an object")
    return body


def _error_message(response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = response.text
    return " ".join(str(message or "").split())[:200]


def _retry_after(response, default: float) -> float:
    try:
        return min(MAX_BACKOFF_S, max(0.0, float(response.headers.get("retry-after", ""))))
    except ValueError:
        return default


def completion_message(body: dict) -> dict:
    """The assistant message of a chat completion, or BackendError for a body that is not one."""
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise BackendError(f"endpoint answered without choices[0].message: {str(body)[:120]}") from None
    if not isinstance(message, dict):
        raise BackendError("endpoint answered with a message that is not an object")
    return message


@register("openai", description="an OpenAI-compatible chat endpoint (vLLM, SGLang, `ground serve`, hosted models)")
class OpenAIGrounder:
    """Grounding over the chat-completions protocol with a model family's prompt, parser and coordinate space.

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
        max_tokens: int = 256,
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
        _check_positive(timeout_s=timeout_s, concurrency=concurrency, max_tokens=max_tokens, max_steps=max_steps,
                        python_timeout_s=python_timeout_s)
        if retries < 0 or backoff_s < 0:
            raise OptionError("retries and backoff_s must not be negative")
        self.family: Family = get_family(family)
        self.model_name = model_name
        self.max_pixels, self.min_pixels = max_pixels, min_pixels
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
            return self.family.model_size(*size, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
        except ValueError as exc:  # an aspect ratio the family's processor refuses
            raise ImageError(str(exc)) from None

    def chat(self, messages: list[dict], **extra: Any) -> tuple[dict, dict]:
        """One chat completion: (the assistant message, the whole response body)."""
        payload = {"model": self.served_model(), "messages": messages, "max_tokens": self.max_tokens,
                   "temperature": self.temperature, **extra}
        body = self.client.post("/chat/completions", payload)
        return completion_message(body), body

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        image, instruction = prepare(image, instruction)
        with Stopwatch() as watch:
            if self.tools:
                from .agentic import locate_with_tools

                prediction = locate_with_tools(self, image, instruction)
            else:
                prediction = self._locate_once(image, instruction)
        return prediction.with_(elapsed_s=watch.elapsed)

    def _locate_once(self, image: Image.Image, instruction: str) -> Prediction:
        size = self.model_size(image.size)
        seen = image if size == image.size else image.resize(size, Image.Resampling.BICUBIC)
        message, body = self.chat(with_image(self.family.messages(instruction, *size), data_url(seen)))
        return self.read_answer(str(message.get("content") or ""), size, image.size, body)

    def read_answer(
        self, text: str, model_size: tuple[int, int], image_size: tuple[int, int], body: dict
    ) -> Prediction:
        """The family's answer text as a Prediction in the caller's pixels (wrong_format when it has no point)."""
        tokens = int((body.get("usage") or {}).get("total_tokens") or 0)
        extension = _extension(body)  # `ground serve` says when its grounder found nothing, and how sure it was
        score = extension.get("score")
        score = min(1.0, max(0.0, float(score))) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0
        if extension.get("status") == Status.NOT_FOUND.value:
            return Prediction.not_found(raw=text, score=score, tokens=tokens)
        answer = self.family.parse(text)
        if answer is None:
            return Prediction.wrong_format(text, tokens=tokens)
        point, box = model_to_image(answer, self.family, model_size, image_size)
        return Prediction(point=point, box=box, score=score, raw=text, tokens=tokens)

    def locate_batch(self, images: Sequence[Image.Image], instructions: Sequence[str]) -> list[Prediction]:
        """Several requests in flight at once (at most `concurrency`), answers in the order asked."""
        if len(images) != len(instructions):
            raise ValueError(f"{len(images)} images for {len(instructions)} instructions")
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(images)))) as pool:
            return list(pool.map(self.locate, images, instructions))


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
