"""The `openai` backend against real stub servers on 127.0.0.1: mapping, round-robin, retries, failures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image

import grounding
from grounding import BackendError, OptionError, Status
from tests.conftest import REPO, stub

SAMPLE = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"


@pytest.fixture(scope="module")
def screenshot():
    with Image.open(SAMPLE) as opened:
        return opened.convert("RGB")


def stats(port: int) -> list[dict]:
    return httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_answer_maps_back_from_the_resized_image(screenshot):
    with stub("--mode", "centre") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-stub")
        prediction = grounder.locate(screenshot, "the middle of the screen")
        seen = stats(port)
    assert prediction.status is Status.OK
    # The stub answered the centre of what it got (Qwen2.5-VL sizes: multiples of 28), which is the centre here.
    assert seen[0]["sizes"] == [[1932, 1092]]
    assert (prediction.point.x, prediction.point.y) == pytest.approx((960, 540))
    assert seen[0]["model"] == "stub-model"  # asked /v1/models, as none was given
    assert seen[0]["authorization"] == "Bearer sk-stub"
    assert prediction.tokens == seen[0]["prompt_tokens"] + 5 and '"coordinate": [966, 546]' in prediction.raw


def test_other_family_and_size_options(screenshot):
    with stub("--mode", "centre", "--factor", "32", "--server-min-pixels", "65536") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                                  family="qwen3-vl", max_pixels=640 * 360)
        prediction = grounder.locate(screenshot, "the middle")
        (request,) = stats(port)
    width, height = request["sizes"][0]
    assert width * height <= 640 * 360 and width % 32 == 0 and height % 32 == 0
    # qwen3-vl reads answers as 0-1000: the stub's pixel answer means another point, mapped as such.
    expected = (round(width / 2) / 1000 * 1920, round(height / 2) / 1000 * 1080)
    assert (prediction.point.x, prediction.point.y) == pytest.approx(expected)
    assert request["model"] == "m"


def test_unreadable_answer_is_wrong_format(screenshot):
    with stub("--mode", "crop") as (_, port):  # answers with a tool call, which a plain locate cannot read
        prediction = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1").locate(screenshot, "File")
    assert prediction.status is Status.WRONG_FORMAT and prediction.point is None


def test_round_robin_and_batch_keep_order(screenshot):
    with stub("--mode", "centre") as (_, a), stub("--mode", "centre") as (_, b):
        grounder = grounding.load("openai", base_url=[f"http://127.0.0.1:{a}/v1", f"http://127.0.0.1:{b}/v1"],
                                  model_name="m", concurrency=4)
        crops = [screenshot.crop((0, 0, 280 * k, 280)) for k in range(1, 7)]
        predictions = grounder.locate_batch(crops, ["x"] * len(crops))
        counts = len(stats(a)), len(stats(b))
    assert [round(p.point.x) for p in predictions] == [140 * k for k in range(1, 7)]
    assert counts == (3, 3)


def test_retries_on_500_then_succeeds(screenshot):
    with stub("--mode", "centre", "--fail", "2") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                                  retries=3, backoff_s=0.05)
        prediction = grounder.locate(screenshot, "x")
        assert len(stats(port)) == 3
    assert prediction.found


def test_persistent_500_is_a_clear_error(screenshot):
    with stub("--fail", "100") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                                  retries=2, backoff_s=0.05)
        with pytest.raises(BackendError, match=r"failed 3 time\(s\).*HTTP 500 stub failure"):
            grounder.locate(screenshot, "x")
        assert len(stats(port)) == 3


def test_server_down_is_retried_then_a_clear_error(screenshot):
    port = free_port()
    grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                              retries=2, backoff_s=0.2)
    start = time.perf_counter()
    with pytest.raises(BackendError, match="connection refused"):
        grounder.locate(screenshot, "x")
    assert time.perf_counter() - start >= 0.2 + 0.4  # two backoffs: it did retry


def test_slow_server_times_out(screenshot):
    with stub("--delay", "5") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                                  timeout_s=0.5, retries=1, backoff_s=0.05)
        start = time.perf_counter()
        with pytest.raises(BackendError, match=r"no answer within 0.5 s"):
            grounder.locate(screenshot, "x")
    assert time.perf_counter() - start < 4


def test_garbage_is_a_clear_error(screenshot):
    with stub("--garbage") as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m")
        with pytest.raises(BackendError, match="not JSON"):
            grounder.locate(screenshot, "x")


def test_bad_options_are_refused():
    with pytest.raises(OptionError, match="needs an endpoint"):
        grounding.load("openai")
    with pytest.raises(OptionError, match="http"):
        grounding.load("openai", base_url="127.0.0.1:8000")
    with pytest.raises(OptionError, match="timeout_s"):
        grounding.load("openai", base_url="http://127.0.0.1:9/v1", timeout_s=0)
    with pytest.raises(grounding.UnknownModelError, match="family"):
        grounding.load("openai", base_url="http://127.0.0.1:9/v1", family="nope")


def test_cli_reports_a_dead_endpoint_in_one_line(tmp_path):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "locate", str(SAMPLE), "open the File menu", "--model", "openai",
         "--base-url", f"http://127.0.0.1:{port}/v1", "--model-name", "m", "-O", "retries=1", "-O", "backoff_s=0.05"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ground: error: endpoint failed 2 time(s)")
    assert "connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_json_through_a_stub(tmp_path):
    with stub("--mode", "centre") as (_, port):
        result = subprocess.run(
            [sys.executable, "-m", "agent.cli", "locate", str(SAMPLE), "the middle", "--json", "--model", "openai",
             "--base-url", f"http://127.0.0.1:{port}/v1", "--api-key", "k2"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )
        (request,) = stats(port)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["point"] == [960.0, 540.0]
    assert request["authorization"] == "Bearer k2"


# --------------------------------------------------------------------------------- a server that resizes by itself

def test_a_server_that_shrinks_the_screenshot_is_caught(screenshot):
    # vLLM started with max_pixels = 1280 tokens (a setting Qwen's docs suggest) gets a 1932x1092 (2,691-token) image.
    with stub("--mode", "centre", "--server-max-pixels", str(1280 * 28 * 28)) as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m")
        with pytest.raises(BackendError, match=r"resized the screenshot behind our back.*1932x1092 image of 2,691 "
                                               r"image tokens.*raise the server's max_pixels to 2,109,744"):
            grounder.locate(screenshot, "the middle of the screen")
        (request,) = stats(port)
        assert request["prompt_tokens"] < 2691  # what the check saw: fewer tokens than the image alone
        # Within the server's budget the answer is in the pixels of what was sent, and right.
        fitted = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m",
                                max_pixels=1280 * 28 * 28)
        prediction = fitted.locate(screenshot, "the middle of the screen")
    assert prediction.status is Status.OK
    assert prediction.point.distance(grounding.Point(960, 540)) < 1


def test_a_server_that_enlarges_the_screenshot_is_caught(screenshot):
    # The text's tokens are bounded by its bytes only, so an enlargement is caught when it outweighs the prompt: a
    # zoom crop of 16 tokens on a server whose min_pixels makes it 2,048.
    crop = screenshot.crop((0, 0, 110, 110))
    with stub("--mode", "centre", "--server-min-pixels", str(2048 * 28 * 28)) as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m", family="uground")
        with pytest.raises(BackendError, match=r"enlarged the screenshot behind our back.*16 image tokens of the "
                                               r"112x112 image sent"):
            grounder.locate(crop, "the middle")


def test_the_cli_says_so_in_one_line(tmp_path):
    with stub("--mode", "centre", "--server-max-pixels", str(1280 * 28 * 28)) as (_, port):
        result = subprocess.run(
            [sys.executable, "-m", "agent.cli", "locate", str(SAMPLE), "the middle", "--model", "openai",
             "--base-url", f"http://127.0.0.1:{port}/v1", "--model-name", "m"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )
    assert result.returncode == 2
    assert result.stderr.startswith("ground: error: the endpoint resized the screenshot behind our back")
    assert len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------- answers, as on every path

def test_an_answer_outside_the_space_is_wrong_format_not_a_click_on_the_edge(screenshot):
    with stub("--mode", "answer", "--point", "5000", "40") as (_, port):  # x = 5000 on a 1932-wide image
        prediction = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1").locate(screenshot, "File")
    assert prediction.status is Status.WRONG_FORMAT and prediction.point is None


@pytest.mark.parametrize(("family", "answer"), [("ui-venus-1.5", "[-1,-1]"),
                                                 ("infigui-g1", "<think>There is no such menu.</think>[]")])
def test_a_family_that_says_the_target_is_not_there_is_not_found(screenshot, family, answer):
    options = ("--factor", "32", "--server-min-pixels", "65536") if family == "ui-venus-1.5" else ()
    with stub("--mode", "answer", "--answer-format", answer, *options) as (_, port):
        grounder = grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", family=family)
        assert grounder.max_tokens == grounder.family.max_new_tokens  # 1024 for InfiGUI-G1, which reasons first
        prediction = grounder.locate(screenshot, "the Frobnicate menu")
    assert prediction.status is Status.NOT_FOUND and prediction.point is None
