"""The chat-completions transport: an HTTP client for OpenAI-compatible endpoints and the message helpers around it.

A leaf: it knows nothing of families or grounders, so the `openai` backend and the tool loop both build on it
without importing each other. Requests are bounded per client, time out, and are retried with backoff on 429, 5xx
and connection failures before a `BackendError` says what happened.
"""

from __future__ import annotations

import base64
import io
import itertools
import threading
import time
from collections.abc import Sequence

from PIL import Image

from .errors import BackendError

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


def usage(body: dict) -> dict:
    """The response's token counts ({} when the endpoint reports none)."""
    counts = body.get("usage")
    return counts if isinstance(counts, dict) else {}
