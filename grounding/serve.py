"""Any registered grounder behind the OpenAI chat-completions protocol (`ground serve`).

A request carries the screenshot as an image data URL and the instruction as text (bare, or inside a model family's
prompt, which is taken apart again); the answer is the point written the way that family writes it, so the `openai`
backend, or any client that speaks a family's format, reads it back. The image the client sent is what the grounder
sees: the served "model size" is the received size. Only data URLs are accepted (the server fetches nothing).

Listens on 127.0.0.1 unless told otherwise; an optional bearer token; bodies over a size limit, bad JSON, bad
images and bad instructions get 4xx JSON errors, and a failing grounder a 5xx JSON error, never a dead server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

from .errors import GroundingError, ImageError, InstructionError
from .geometry import Point
from .inputs import MAX_IMAGE_PIXELS, check_instruction, to_rgb
from .types import Grounder, Prediction
from .vlm.families import Family, get_family

DEFAULT_MAX_BODY_BYTES = 64 << 20  # a 4K PNG screenshot is ~10 MB, ~14 MB as base64
_DATA_URL = re.compile(r"data:image/[\w.+-]+;base64,(.*)", re.S)


class RequestError(Exception):
    """A request we refuse: HTTP status, OpenAI-style error type, and a message for the client."""

    def __init__(self, status: HTTPStatus, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.kind = status, kind


@dataclass(frozen=True)
class ServeConfig:
    model_name: str
    family: Family
    token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    concurrency: int = 1  # grounders are not assumed thread-safe; raise it for one that is
    quiet: bool = False


class GroundingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, grounder: Grounder, config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.grounder, self.config = grounder, config
        self.slots = threading.BoundedSemaphore(config.concurrency)
        self.instruction_pattern = template_pattern(config.family.user)
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"


def make_server(
    grounder: Grounder, *, host: str = "127.0.0.1", port: int = 8000, family: str = "qwen2.5-vl",
    model_name: str | None = None, token: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    concurrency: int = 1, quiet: bool = False,
) -> GroundingServer:
    config = ServeConfig(model_name or getattr(grounder, "name", "grounder"), get_family(family), token or None,
                         max_body_bytes, concurrency, quiet)
    return GroundingServer(grounder, config, host, port)


def template_pattern(template: str) -> re.Pattern[str]:
    """A family's user-prompt template as a regex whose `instruction` group gives the instruction back (matched
    against stripped text, so the template is stripped too)."""
    parts = re.split(r"\$\{?(instruction|width|height)\}?", template.strip())
    pattern = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern += re.escape(part)
        elif part == "instruction" and "(?P<instruction>" not in pattern:
            pattern += r"(?P<instruction>.+?)"
        else:
            pattern += r".+?" if part == "instruction" else r"\d+"
    return re.compile(pattern, re.S)


def instruction_from(texts: list[str], pattern: re.Pattern[str]) -> str:
    """The instruction among a user message's text parts, with the family's prompt around it taken off again.

    The family's user text comes last (a preamble, as ShowUI's, comes before the image), so the search runs backwards.
    """
    for text in reversed(texts):
        match = pattern.fullmatch(text.strip())
        if match:
            return match.group("instruction")
    return texts[-1] if texts else ""


class _Handler(BaseHTTPRequestHandler):
    server: GroundingServer
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a client may stall mid-request before its connection is dropped
    server_version = "screenground"

    def do_GET(self) -> None:
        self._dispatch({"/v1/models": self._models, "/health": self._health})

    def do_POST(self) -> None:
        self._dispatch({"/v1/chat/completions": self._chat})

    def do_OTHER(self) -> None:
        self._dispatch({})

    do_PUT = do_DELETE = do_PATCH = do_OTHER

    def _dispatch(self, routes: dict) -> None:
        try:
            route = routes.get(self.path.split("?", 1)[0].rstrip("/") or "/")
            if route is None:
                known = self.path.split("?", 1)[0].rstrip("/") in ("/v1/models", "/health", "/v1/chat/completions")
                raise RequestError(HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND,
                                   f"{self.command} {self.path} is not served here", "not_found_error")
            if route != self._health:
                self._authorize()
            self._send(HTTPStatus.OK, route())
        except RequestError as exc:
            self.close_connection = True  # an unread body must not be taken for the next request
            self._send(exc.status, {"error": {"message": str(exc), "type": exc.kind, "code": exc.status.value}})
        except Exception as exc:  # noqa: BLE001 -- one bad request must never take the server down
            self.close_connection = True
            self.log_error("internal error: %s: %s", type(exc).__name__, exc)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                       {"error": {"message": f"internal error: {type(exc).__name__}", "type": "server_error",
                                  "code": 500}})

    def _authorize(self) -> None:
        token = self.server.config.token
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise RequestError(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token", "authentication_error")

    def _health(self) -> dict:
        return {"status": "ok"}

    def _models(self) -> dict:
        config = self.server.config
        return {"object": "list", "data": [{"id": config.model_name, "object": "model", "created": 0,
                                            "owned_by": "screenground", "family": config.family.name}]}

    def _chat(self) -> dict:
        request = self._read_json()
        if request.get("stream"):
            raise RequestError(HTTPStatus.BAD_REQUEST, "streaming is not supported; send stream: false")
        image, instruction = self._inputs(request.get("messages"))
        with self.server.slots:
            try:
                prediction = self.server.grounder.locate(image, instruction)
            except (ImageError, InstructionError) as exc:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None
            except GroundingError as exc:
                raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, str(exc), "server_error") from None
        return self._completion(prediction, image.size)

    def _read_json(self) -> dict:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required") from None
        limit = self.server.config.max_body_bytes
        if length < 0 or length > limit:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {limit:,} bytes")
        body = self.rfile.read(length)
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body is not valid JSON") from None
        if not isinstance(request, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return request

    def _inputs(self, messages: Any) -> tuple[Image.Image, str]:
        """The last user message's image and instruction."""
        if not isinstance(messages, list) or not messages:
            raise RequestError(HTTPStatus.BAD_REQUEST, "messages must be a non-empty list")
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if not users:
            raise RequestError(HTTPStatus.BAD_REQUEST, "no user message")
        content = users[-1].get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise RequestError(HTTPStatus.BAD_REQUEST, "message content must be a string or a list of parts")
        urls = [p.get("image_url") for p in parts if p.get("type") == "image_url"]
        texts = [p["text"] for p in parts if p.get("type") == "text" and isinstance(p.get("text"), str)]
        if len(urls) != 1:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"expected one image in the user message, got {len(urls)}")
        url = urls[0].get("url") if isinstance(urls[0], dict) else urls[0]
        image = _decode_image(url)
        try:
            return image, check_instruction(instruction_from(texts, self.server.instruction_pattern))
        except InstructionError as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None

    def _completion(self, prediction: Prediction, size: tuple[int, int]) -> dict:
        family = self.server.config.family
        if prediction.point is not None:
            point = prediction.point
            if family.space.in_pixels:
                # Integer pixel answers name the pixel the point falls in, so a client lands on the same pixel.
                point = Point(*point.rounded())
            text = family.format_answer(point, *size)
        else:
            text = f"{prediction.status.value}: no target found"
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.server.config.model_name,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "screenground": {"status": prediction.status.value, "score": round(prediction.score, 4),
                                 **({"point": prediction.point.to_list()} if prediction.point else {}),
                                 **({"box": prediction.box.to_list()} if prediction.box else {})},
            }],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    def _send(self, status: HTTPStatus, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.config.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def _decode_image(url: Any) -> Image.Image:
    if not isinstance(url, str):
        raise RequestError(HTTPStatus.BAD_REQUEST, "image_url.url must be a string")
    match = _DATA_URL.fullmatch(url.strip())
    if not match:
        raise RequestError(HTTPStatus.BAD_REQUEST, "only base64 image data URLs are accepted (data:image/...;base64,)")
    try:
        data = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the image data URL is not valid base64") from None
    try:
        with Image.open(io.BytesIO(data)) as opened:  # the header's size is checked before any pixel is decoded
            if opened.width * opened.height > MAX_IMAGE_PIXELS:
                raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"image over {MAX_IMAGE_PIXELS:,} pixels")
            opened.load()
            return to_rgb(opened.copy())
    except RequestError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, ImageError):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the image cannot be decoded") from None
