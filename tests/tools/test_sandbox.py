"""The python tool's sandbox: real runs of model-written code, including escape attempts that must fail cleanly."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from tools import run_python
from tools.sandbox import Limits, isolation
from tests.conftest import REPO

SAMPLE = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
isolated = pytest.mark.skipif(isolation() != "bwrap", reason="bubblewrap is not usable here: no OS isolation")


@pytest.fixture(scope="module")
def screenshot():
    with Image.open(SAMPLE) as opened:
        return opened.convert("RGB")


def assert_still_works(screenshot):
    result = run_python("print(image.size)", image=screenshot)
    assert result.ok and result.stdout.strip() == str(screenshot.size), result


def test_code_sees_the_screenshot_and_its_images_come_back(screenshot):
    code = (
        "import numpy as np\n"
        "print(image.size, np.asarray(image)[36, 17].tolist())\n"
        "image.crop((0, 0, 40, 30)).show()\n"
        "image.crop((0, 0, 50, 20)).save('saved.png')\n"
        "image.crop((10, 10, 30, 60))\n"
    )
    result = run_python(code, image=screenshot, timeout_s=10)
    assert result.ok, result.error
    assert result.stdout.strip() == f"{screenshot.size} {list(screenshot.getpixel((17, 36)))}"
    assert sorted(picture.size for picture in result.images) == [(20, 50), (40, 30), (50, 20)]
    shown = next(p for p in result.images if p.size == (40, 30))
    assert shown.tobytes() == screenshot.crop((0, 0, 40, 30)).tobytes()


def test_the_codes_own_errors_are_results_not_exceptions(screenshot):
    result = run_python("x = 1\nprint('before')\n1 / 0\n", image=screenshot)
    assert not result.ok
    assert result.error.startswith("ZeroDivisionError") and "line 3" in result.error
    assert result.stdout == "before\n"
    syntax = run_python("def broken(:\n", image=screenshot)
    assert not syntax.ok and "SyntaxError" in syntax.error
    assert not run_python("raise SystemExit(3)").ok
    assert_still_works(screenshot)


def test_infinite_loop_is_stopped(screenshot):
    start = time.perf_counter()
    result = run_python("while True:\n    pass\n", image=screenshot, timeout_s=1)
    assert not result.ok
    assert "limit" in result.error or "timed out" in result.error
    assert time.perf_counter() - start < 10
    sleeper = run_python("import time\ntime.sleep(60)\n", timeout_s=1)  # no CPU used: the wall clock stops it
    assert not sleeper.ok and "timed out" in sleeper.error
    assert_still_works(screenshot)


def test_memory_bomb_fails_cleanly(screenshot):
    one_shot = run_python("x = bytearray(16 << 30)\n", image=screenshot)
    assert not one_shot.ok and "MemoryError" in one_shot.error
    growing = run_python("a = []\nwhile True:\n    a.append(bytearray(10 << 20))\n", timeout_s=10)
    assert not growing.ok and ("MemoryError" in growing.error or "killed" in growing.error), growing.error
    assert_still_works(screenshot)


def test_output_is_capped(screenshot):
    result = run_python("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 100_000)\n",
                        limits=Limits(output_chars=1000))
    assert result.ok, result.error
    assert result.stdout.startswith("x" * 1000) and "output cut at 1000 characters" in result.stdout
    assert len(result.stdout) < 1100


def test_api_key_in_the_environment_is_not_inherited(monkeypatch, screenshot):
    secret = "sk-test-" + os.urandom(8).hex()
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    code = (
        "import os, glob\n"
        "print(dict(os.environ))\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n"
        "        print(open(path, 'rb').read())\n"
        "    except OSError as exc:\n"
        "        print(path, exc)\n"
    )
    result = run_python(code, image=screenshot)
    assert result.ok, result.error
    assert "OPENAI_API_KEY" not in result.stdout.split("\n")[0]
    if isolation() == "bwrap":  # without a PID namespace the parent's /proc entry is readable: see the README
        assert secret not in result.stdout


@isolated
def test_no_network(screenshot):
    listener = socket.create_server(("127.0.0.1", 0))  # on the host's loopback; connections queue without accept
    port = listener.getsockname()[1]
    result = run_python(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)\n")
    outside = run_python("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n")
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing reached it
    listener.close()
    assert not result.ok and "ConnectionRefused" in result.error, result.error
    assert not outside.ok and "unreachable" in outside.error, outside.error
    assert_still_works(screenshot)


@isolated
def test_files_outside_cannot_be_read(tmp_path, screenshot):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    result = run_python(f"print(open({str(secret)!r}).read())\n", image=screenshot)
    assert not result.ok and "top secret" not in result.stdout
    assert "FileNotFoundError" in result.error or "PermissionError" in result.error
    home = run_python("import os\nprint(os.listdir(os.path.expanduser('~root')))\n")
    assert not home.ok or ".ssh" not in home.stdout
    assert_still_works(screenshot)


@isolated
def test_no_writes_outside_the_work_directory(tmp_path, screenshot):
    target = tmp_path / "pwned.txt"
    host_tmp = Path("/tmp") / f"screenground-pwned-{os.getpid()}"
    code = (
        "import os\n"
        "errors = []\n"
        f"for path in [{str(target)!r}, {str(host_tmp)!r}, '/usr/pwned', '/pwned', os.path.expanduser('~/../pwned')]:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "    except OSError as exc:\n"
        "        errors.append(type(exc).__name__)\n"
        "print(errors)\n"
    )
    result = run_python(code, image=screenshot)
    assert result.ok, result.error
    assert not target.exists() and not host_tmp.exists()
    assert not Path("/usr/pwned").exists() and not Path("/pwned").exists()
    assert_still_works(screenshot)


def test_a_link_left_in_the_work_directory_is_not_followed(tmp_path, screenshot):
    private = tmp_path / "private.png"
    Image.new("RGB", (7, 7), "red").save(private)
    private.chmod(0o600)
    result = run_python(f"import os\nos.symlink({str(private)!r}, 'leak.png')\n", image=screenshot)
    assert result.ok, result.error
    assert result.images == ()


@isolated
def test_fork_storm_is_bounded_and_cleaned_up(screenshot):
    code = (
        "import os, time\n"
        "made, refused = 0, 0\n"
        "for _ in range(300):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        refused += 1\n"
        "        continue\n"
        "    if pid == 0:\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "    made += 1\n"
        "print(made, refused)\n"
    )
    result = run_python(code, image=screenshot, timeout_s=10)
    assert result.ok, result.error
    made, refused = map(int, result.stdout.split())
    assert made < Limits().processes and refused > 250
    time.sleep(0.5)
    assert not _runner_processes(), "forked children outlived the sandbox"
    assert_still_works(screenshot)


def _runner_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"runner.py" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
