"""The agentic tool loop end to end: a scripted tool-calling model process on 127.0.0.1 crops, runs code, answers.

Tests about the loop opt in to an unisolated python tool where bubblewrap is missing (the code is the stub's, not a
model's); the tests about safety do not: they need the sandbox, or force its absence and check the tool is withheld.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import httpx
import pytest
from PIL import Image, ImageDraw

import grounding
from grounding import Box, Status, Transform
from grounding.agentic import PythonToolOff
from tests.conftest import REPO, Listener, stub

SAMPLE = REPO / "samples/images/streamlit_web/hello_home.png"  # a real screenshot with no pure red in it
MARKER = Box(1500, 800, 1506, 806)
# Where bubblewrap is missing, the loop's default says once per grounder that python is off: expected, not news here.
pytestmark = pytest.mark.filterwarnings("ignore::grounding.agentic.PythonToolOff")


@pytest.fixture(scope="module")
def screenshot():
    with Image.open(SAMPLE) as opened:
        image = opened.convert("RGB")
    ImageDraw.Draw(image).rectangle((MARKER.x1, MARKER.y1, MARKER.x2 - 1, MARKER.y2 - 1), fill=(255, 0, 0))
    return image


def requests_seen(port: int) -> list[dict]:
    return httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"]


def agent(port: int, **options):
    return grounding.load("openai", base_url=f"http://127.0.0.1:{port}/v1", model_name="m", tools=True, **options)


def trusting_agent(port: int, **options):
    """The loop with its python tool whatever the machine: for tests whose code is the stub's own."""
    return agent(port, allow_unisolated_python=True, **options)


def code_stub(tmp_path, code: str):
    code_file = tmp_path / "code.py"
    code_file.write_text(code)
    return stub("--mode", "code", "--code-file", str(code_file), "--point", "966", "546")


def connect_to(listener: Listener) -> str:
    return f"import socket\nsocket.create_connection(('127.0.0.1', {listener.port}), timeout=2)\nprint('connected')\n"


def test_crop_then_answer_maps_back_to_the_screenshot(screenshot):
    asked = Box(1400, 700, 1600, 900)  # in pixels of the 1932x1092 image a Qwen2.5-VL model sees
    with stub("--mode", "crop", "--box", *map(str, asked)) as (_, port):
        prediction = trusting_agent(port).locate(screenshot, "click the red square")
        first, second = requests_seen(port)
    assert prediction.status is Status.OK
    assert prediction.point.distance(MARKER.center) <= 3, prediction.point
    assert [step.kind for step in prediction.trace] == ["call", "tool", "answer"]
    crop = prediction.trace[1].crop
    expected = Transform.between_sizes((1932, 1092), screenshot.size).apply_box(asked)
    assert all(abs(a - b) <= 1 for a, b in zip(crop, expected, strict=True)), (crop, expected)
    assert prediction.calls == 2 and prediction.tokens == first["prompt_tokens"] + second["prompt_tokens"] + 10
    assert first["tools"] == ["crop", "zoom", "python"] and first["sizes"] == [[1932, 1092]]
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert "region [1400.0, 700.0, 1600.0, 900.0]" in tool_message["content"]
    assert second["sizes"][-1] == [round(crop.width), round(crop.height)]  # full resolution, not the resized view


def test_the_views_honour_max_pixels(screenshot):
    with stub("--mode", "crop", "--box", "100", "100", "300", "200") as (_, port):
        agent(port, max_pixels=100_000).locate(screenshot, "click the red square")
        first, second = requests_seen(port)[:2]
    (screen,), view = first["sizes"], second["sizes"][-1]
    assert screen[0] * screen[1] <= 100_000
    # The region asked for is ~418,000 screenshot pixels at full resolution; the view is scaled to the budget (its
    # sides rounded to whole pixels).
    assert 95_000 <= view[0] * view[1] <= 101_000


def test_python_tool_finds_the_marker(screenshot):
    with stub("--mode", "python") as (_, port):
        prediction = trusting_agent(port).locate(screenshot, "click the red square")
    assert prediction.status is Status.OK
    assert prediction.point.distance(MARKER.center) <= 3, prediction.point
    tool_step = prediction.trace[1]
    assert tool_step.kind == "tool" and tool_step.note == "python: ok" and "np.nonzero" in tool_step.raw


@pytest.mark.parametrize(
    "code, failure",
    [
        ("while True:\n    pass\n", "timed out"),
        ("import os\nprint(os.environ['OPENAI_API_KEY'])\n", "KeyError"),
    ],
)
def test_a_failing_python_call_does_not_stop_the_loop(screenshot, tmp_path, monkeypatch, code, failure):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-parent-secret")
    with code_stub(tmp_path, code) as (_, port):
        prediction = trusting_agent(port, python_timeout_s=1).locate(screenshot, "anything")
        second = requests_seen(port)[1]
    assert prediction.status is Status.OK
    assert (prediction.point.x, prediction.point.y) == pytest.approx((960, 540))
    note = prediction.trace[1].note
    assert note.startswith("python: ") and failure in note, note
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_message["content"].startswith("error:") and "sk-parent-secret" not in tool_message["content"]


def test_step_budget_ends_the_loop(screenshot):
    with stub("--mode", "loop", "--box", "0", "0", "300", "300") as (_, port):
        prediction = agent(port, max_steps=3).locate(screenshot, "anything")
        seen = requests_seen(port)
    assert prediction.status is Status.WRONG_FORMAT
    assert prediction.calls == 3 and len(seen) == 3
    assert [step.kind for step in prediction.trace] == ["call", "tool", "call", "tool", "call"]
    assert seen[-1]["tools"] == [] and "answer now" in str(seen[-1]["messages"][-1])


def test_bad_tool_arguments_go_back_to_the_model(screenshot):
    with stub("--mode", "crop", "--box", "5000", "5000", "6000", "6000") as (_, port):
        prediction = agent(port).locate(screenshot, "anything")
        second = requests_seen(port)[1]
    assert prediction.status is Status.WRONG_FORMAT  # the stub saw no image and said so in words
    assert "error" in prediction.trace[1].note
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert "no area inside the screenshot" in tool_message["content"]


def test_model_code_cannot_reach_this_machine(isolated, screenshot, tmp_path):
    with Listener() as listener, code_stub(tmp_path, connect_to(listener)) as (_, port):
        with warnings.catch_warnings():
            warnings.simplefilter("error", PythonToolOff)  # isolated: the tool is offered without a word
            prediction = agent(port).locate(screenshot, "anything")
        first = requests_seen(port)[0]
        assert not listener.reached()
    assert first["tools"] == ["crop", "zoom", "python"]
    assert prediction.status is Status.OK
    assert prediction.trace[1].note.startswith("python: ConnectionRefusedError"), prediction.trace[1].note


def test_without_isolation_the_python_tool_is_withheld_until_the_user_opts_in(screenshot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENGROUND_SANDBOX", "none")
    with Listener() as listener:
        with code_stub(tmp_path, connect_to(listener)) as (_, port):  # the stub calls python whatever it is offered
            with pytest.warns(PythonToolOff, match=r"^the python tool is off: .*SCREENGROUND_SANDBOX=none.*"
                              r"--allow-unisolated-python \(allow_unisolated_python=True in Python\)"):
                grounder = agent(port)
            withheld = grounder.locate(screenshot, "anything")
            first, second = requests_seen(port)
        assert not listener.reached()
        assert first["tools"] == ["crop", "zoom"] and "python" not in str(first["messages"])
        assert next(m for m in second["messages"] if m["role"] == "tool")["content"] == (
            "error: there is no tool 'python' here; the tools are crop, zoom")
        assert withheld.status is Status.OK
        assert withheld.trace[1].note.startswith("python: error: there is no tool 'python'")

        with code_stub(tmp_path, connect_to(listener)) as (_, port):
            with warnings.catch_warnings():
                warnings.simplefilter("error", PythonToolOff)
                opted_in = agent(port, allow_unisolated_python=True).locate(screenshot, "anything")
            first = requests_seen(port)[0]
        assert first["tools"] == ["crop", "zoom", "python"]
        assert opted_in.trace[1].note == "python: ok" and listener.reached()  # unisolated, as the user chose


@pytest.mark.parametrize("opt_in", [[], ["--allow-unisolated-python"]])
def test_the_cli_says_in_one_line_why_the_python_tool_is_off(tmp_path, opt_in):
    env = {**os.environ, "SCREENGROUND_SANDBOX": "none"}
    with stub("--mode", "answer", "--point", "100", "100") as (_, port):
        ran = subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "locate",
                str(SAMPLE),
                "the button",
                "--model",
                "openai",
                "--base-url",
                f"http://127.0.0.1:{port}/v1",
                "--model-name",
                "m",
                "--no-zoom",
                "-O",
                "tools=true",
                *opt_in,
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=120,
        )
        first = requests_seen(port)[0]
    assert ran.returncode == 0, ran.stderr
    if opt_in:
        assert ran.stderr == "" and first["tools"] == ["crop", "zoom", "python"]
    else:
        assert ran.stderr.startswith("ground: warning: the python tool is off: ") and ran.stderr.count("\n") == 1
        assert "--allow-unisolated-python" in ran.stderr and first["tools"] == ["crop", "zoom"]


@pytest.mark.parametrize("command", [["locate", "shot.png", "x"], ["eval", "bench"], ["serve"]])
def test_locate_eval_and_serve_take_the_opt_in(command):
    from agent.cli import build_parser
    from grounding.cli.options import backend_options

    args = build_parser().parse_args([*command, "--model", "openai", "--allow-unisolated-python"])
    assert backend_options(args)["allow_unisolated_python"] is True
    assert "allow_unisolated_python" not in backend_options(build_parser().parse_args(command))
