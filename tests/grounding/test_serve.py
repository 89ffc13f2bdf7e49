"""`ground serve` as a real process on 127.0.0.1: the ocr grounder over HTTP gives the same pixel as called directly,
and bad requests get 4xx JSON errors while the server keeps serving."""

from __future__ import annotations

import base64
import io
import json
import socket
import subprocess
import sys

import httpx
import pytest
from PIL import Image

import grounding
from grounding.serve import instruction_from, template_pattern
from grounding.vlm.families import FAMILIES
from tests.conftest import REPO, Listener, running

SAMPLE = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
TOKEN = "serve-test-token"
INSTRUCTION = "open the File menu"


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory):
    # The menu-bar corner of a real screenshot keeps the OCR passes short on a busy machine.
    with Image.open(SAMPLE) as opened:
        image = opened.convert("RGB").crop((0, 0, 800, 450))
    path = tmp_path_factory.mktemp("serve") / "writer_corner.png"
    image.save(path)
    return image, path


@pytest.fixture(scope="module")
def server():
    command = [sys.executable, "-m", "agent.cli", "serve", "--model", "ocr", "--port", "0", "--token", TOKEN,
               "--max-body-mb", "2", "--quiet"]
    with running(command, port_pattern=r"on http://127\.0\.0\.1:(\d+)/v1$") as (process, port):
        yield f"http://127.0.0.1:{port}/v1", process


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def chat(url: str, payload, token: str | None = TOKEN, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(payload, (bytes, str)):
        return httpx.post(f"{url}/chat/completions", content=payload, headers=headers, timeout=120, **kwargs)
    return httpx.post(f"{url}/chat/completions", json=payload, headers=headers, timeout=120, **kwargs)


def request_for(image_url, text: str = INSTRUCTION) -> dict:
    return {"model": "ocr", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": image_url}}, {"type": "text", "text": text}]}]}


def test_round_trip_gives_the_same_pixel_as_ocr_directly(server, screenshot):
    url, _ = server
    image, path = screenshot
    direct = grounding.load("ocr").locate(image, INSTRUCTION)
    assert direct.found
    remote = grounding.load("openai", base_url=url, api_key=TOKEN, resize=False).locate(image, INSTRUCTION)
    assert remote.found and remote.point.rounded() == direct.point.rounded(), (remote, direct)
    assert remote.score == pytest.approx(direct.score, abs=1e-3), (remote, direct)
    cli = subprocess.run(
        [sys.executable, "-m", "agent.cli", "locate", str(path), INSTRUCTION, "--json", "--model", "openai",
         "--base-url", url, "--api-key", TOKEN, "-O", "resize=false"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    point = json.loads(cli.stdout)["point"]
    assert (int(point[0]), int(point[1])) == direct.point.rounded(), (cli.stdout, direct)


def test_models_lists_the_served_grounder(server):
    url, _ = server
    body = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert body["data"][0]["id"] == "ocr" and body["data"][0]["family"] == "qwen2.5-vl"
    assert httpx.get(f"{url}/models").status_code == 401


def test_bad_requests_get_json_errors_and_the_server_lives_on(server, screenshot):
    url, process = server
    image, _ = screenshot
    good = data_url(image.crop((0, 0, 64, 64)))
    with Listener() as listener:  # an image by URL is refused, never fetched
        by_url = chat(url, request_for(f"http://127.0.0.1:{listener.port}/shot.png"))
        assert not listener.reached()
    cases = [
        (by_url, 400),
        (chat(url, request_for(good), token=None), 401),
        (chat(url, request_for(good), token="wrong"), 401),
        (chat(url, b"{not json"), 400),
        (chat(url, {"messages": "hello"}), 400),
        (chat(url, {"messages": [{"role": "user", "content": "no image here"}]}), 400),
        (chat(url, request_for("data:image/png;base64,@@@@")), 400),
        (chat(url, request_for("data:image/png;base64," + base64.b64encode(b"not a png").decode())), 400),
        (chat(url, request_for(good, text="   ")), 400),
        (chat(url, {**request_for(good), "stream": True}), 400),
        (chat(url, b"x" * (3 << 20)), 413),
        (httpx.get(f"{url}/chat/completions", headers={"Authorization": f"Bearer {TOKEN}"}), 405),
        (httpx.get(f"{url}/nothing", headers={"Authorization": f"Bearer {TOKEN}"}), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.status_code, response.text)
        error = response.json()["error"]
        assert error["message"] and error["code"] == status
    assert _raw_post_without_length(url).startswith(b"HTTP/1.1 411")
    assert process.poll() is None
    assert httpx.get(f"{url.removesuffix('/v1')}/health").json() == {"status": "ok"}
    answer = chat(url, request_for(data_url(image), text=INSTRUCTION))
    assert answer.status_code == 200 and '"coordinate": [' in answer.json()["choices"][0]["message"]["content"]


def _raw_post_without_length(url: str) -> bytes:
    host, port = url.removeprefix("http://").removesuffix("/v1").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                           .encode())
        return connection.recv(4096)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_instruction_is_taken_out_of_each_familys_prompt(name):
    family = FAMILIES[name]
    texts = [p["text"] for m in family.messages("open the File menu", 1932, 1092) if isinstance(m["content"], list)
             for p in m["content"] if p.get("type") == "text"]
    assert instruction_from(texts, template_pattern(family.user)) == "open the File menu"


def test_serve_refuses_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "agent.cli", "serve", "--model", "ocr", "--port", str(port)],
                                capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith(f"ground: error: cannot listen on 127.0.0.1:{port}")
