"""The chat transport (`grounding.chat`): a leaf the `openai` backend and the tool loop share, and its helpers."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

from PIL import Image

from grounding.chat import completion_message, data_url, usage, with_image
from grounding.errors import BackendError
from tests.conftest import REPO


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in sys.modules if m.startswith('grounding')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_transport_imports_neither_backend_nor_tool_loop():
    modules = loaded_after("import grounding.chat")
    assert not modules & {"grounding.remote", "grounding.agentic", "grounding.vlm"}


def test_the_tool_loop_does_not_import_the_openai_backend():
    modules = loaded_after("import grounding.agentic")
    assert "grounding.agentic" in modules and "grounding.remote" not in modules


def test_a_data_url_carries_the_exact_pixels():
    image = Image.effect_noise((37, 23), 60).convert("RGB")
    url = data_url(image)
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as decoded:
        assert decoded.size == (37, 23) and decoded.convert("RGB").tobytes() == image.tobytes()


def test_with_image_fills_only_the_image_placeholder():
    messages = [{"role": "system", "content": "S"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text",
                                                                                              "text": "b"}]}]
    filled = with_image(messages, "data:image/png;base64,AAAA")
    assert filled[0] == messages[0]
    assert filled[1]["content"] == [{"type": "text", "text": "a"},
                                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                                    {"type": "text", "text": "b"}]
    assert messages[1]["content"][1] == {"type": "image"}  # the family's messages are not changed in place


def test_completion_bodies():
    body = {"choices": [{"message": {"role": "assistant", "content": "(1,2)"}}], "usage": {"prompt_tokens": 7}}
    assert completion_message(body)["content"] == "(1,2)"
    assert usage(body) == {"prompt_tokens": 7} and usage({"usage": None}) == {} and usage({}) == {}
    try:
        completion_message({"choices": []})
    except BackendError as exc:
        assert "choices[0].message" in str(exc)
    else:
        raise AssertionError("a body without choices must be a BackendError")
