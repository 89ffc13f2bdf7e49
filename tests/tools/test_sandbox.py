"""The python tool's sandbox: real runs of model-written code, including escape attempts that must fail cleanly.

The escape attempts need bubblewrap (`isolated`: a skip on a fresh machine, a failure under CI) and aim only at this
machine: a listener on 127.0.0.1, files in pytest's temporary directory. The limits hold in both modes, so their
tests run wherever they can, unisolated where nothing else is possible (the code is the test's own).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from PIL import Image

from tests.conftest import REPO, Listener
from tools import IsolationUnavailable, isolation, run_python
from tools.sandbox import Isolation, Limits, _probe

SAMPLE = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
run_trusted = functools.partial(run_python, allow_unisolated=True)  # the limits' tests: isolated where possible


@pytest.fixture(scope="module")
def screenshot():
    with Image.open(SAMPLE) as opened:
        return opened.convert("RGB")


@pytest.fixture
def probe_again():
    """isolation() probes once per process; a test that changes what the probe sees gets a fresh one, then the
    real answer back."""
    _probe.cache_clear()
    yield
    _probe.cache_clear()


def assert_still_works(screenshot):
    result = run_trusted("print(image.size)", image=screenshot)
    assert result.ok and result.stdout.strip() == str(screenshot.size), result


def test_code_sees_the_screenshot_and_its_images_come_back(screenshot):
    code = (
        "import numpy as np\n"
        "print(image.size, np.asarray(image)[36, 17].tolist())\n"
        "image.crop((0, 0, 40, 30)).show()\n"
        "image.crop((0, 0, 50, 20)).save('saved.png')\n"
        "image.crop((10, 10, 30, 60))\n"
    )
    result = run_trusted(code, image=screenshot, timeout_s=10)
    assert result.ok, result.error
    assert result.stdout.strip() == f"{screenshot.size} {list(screenshot.getpixel((17, 36)))}"
    assert sorted(picture.size for picture in result.images) == [(20, 50), (40, 30), (50, 20)]
    shown = next(p for p in result.images if p.size == (40, 30))
    assert shown.tobytes() == screenshot.crop((0, 0, 40, 30)).tobytes()


def test_the_codes_own_errors_are_results_not_exceptions(screenshot):
    result = run_trusted("x = 1\nprint('before')\n1 / 0\n", image=screenshot)
    assert not result.ok
    assert result.error.startswith("ZeroDivisionError") and "line 3" in result.error
    assert result.stdout == "before\n"
    syntax = run_trusted("def broken(:\n", image=screenshot)
    assert not syntax.ok and "SyntaxError" in syntax.error
    assert not run_trusted("raise SystemExit(3)").ok
    assert_still_works(screenshot)


def test_infinite_loop_is_stopped(screenshot):
    start = time.perf_counter()
    result = run_trusted("while True:\n    pass\n", image=screenshot, timeout_s=1)
    assert not result.ok
    assert "limit" in result.error or "timed out" in result.error
    assert time.perf_counter() - start < 10
    sleeper = run_trusted("import time\ntime.sleep(60)\n", timeout_s=1)  # no CPU used: the wall clock stops it
    assert not sleeper.ok and "timed out" in sleeper.error
    assert_still_works(screenshot)


def test_memory_bomb_fails_cleanly(screenshot):
    one_shot = run_trusted("x = bytearray(16 << 30)\n", image=screenshot)
    assert not one_shot.ok and "MemoryError" in one_shot.error
    # A small address space, so the bomb writes few pages before it hits it: on a loaded machine writing the
    # default 1 GB took longer than a short wall clock, and the clock, not the memory limit, stopped it.
    growing = run_trusted("a = []\nwhile True:\n    a.append(bytearray(10 << 20))\n",
                          limits=Limits(memory_bytes=256 << 20), timeout_s=120)
    assert not growing.ok and ("MemoryError" in growing.error or "killed" in growing.error), growing.error
    assert_still_works(screenshot)


def test_output_is_capped(screenshot):
    result = run_trusted("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 100_000)\n",
                        limits=Limits(output_chars=1000))
    assert result.ok, result.error
    assert result.stdout.startswith("x" * 1000) and "output cut at 1000 characters" in result.stdout
    assert len(result.stdout) < 1100


SECRET_READER = (
    "import os, glob\n"
    "print(dict(os.environ))\n"
    "for path in glob.glob('/proc/*/environ'):\n"
    "    try:\n"
    "        print(open(path, 'rb').read())\n"
    "    except OSError as exc:\n"
    "        print(path, exc)\n"
)


def test_api_key_in_the_environment_is_not_inherited(monkeypatch, screenshot):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + os.urandom(8).hex())
    result = run_trusted(SECRET_READER, image=screenshot)
    assert result.ok, result.error
    assert "OPENAI_API_KEY" not in result.stdout.split("\n")[0]


def test_no_other_process_environment_is_readable(isolated, monkeypatch, screenshot):
    # Without a PID namespace this user's processes' /proc/*/environ are readable: why unisolated runs need an opt-in.
    secret = "sk-test-" + os.urandom(8).hex()
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    result = run_python(SECRET_READER, image=screenshot)
    assert result.ok and result.isolation == "bwrap", result
    assert secret not in result.stdout


def test_no_network(isolated, screenshot):
    with Listener() as listener:
        result = run_python(f"import socket\nsocket.create_connection(('127.0.0.1', {listener.port}), timeout=3)\n")
        assert not listener.reached()
    assert not result.ok and "ConnectionRefused" in result.error, result.error
    interfaces = run_python("import socket\nprint(sorted(name for _, name in socket.if_nameindex()))\n")
    assert interfaces.ok and interfaces.stdout.strip() == "['lo']", interfaces  # no route off the machine at all
    assert_still_works(screenshot)


def test_files_outside_cannot_be_read(isolated, tmp_path, screenshot):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    result = run_python(f"print(open({str(secret)!r}).read())\n", image=screenshot)
    assert not result.ok and "top secret" not in result.stdout
    assert "FileNotFoundError" in result.error or "PermissionError" in result.error
    home = run_python("import os\nprint(os.listdir(os.path.expanduser('~root')))\n")
    assert not home.ok or ".ssh" not in home.stdout
    assert_still_works(screenshot)


def test_no_writes_outside_the_work_directory(isolated, tmp_path, screenshot):
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
    result = run_trusted(f"import os\nos.symlink({str(private)!r}, 'leak.png')\n", image=screenshot)
    assert result.ok, result.error
    assert result.images == ()


def test_fork_storm_is_bounded_and_cleaned_up(isolated, screenshot):
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


def escape_attempt(port: int, secret: Path, target: Path) -> str:
    """Code that tries what the issue found unisolated code doing: reach a listener on this machine, read a file and
    write a file outside its directory. It prints what it managed."""
    return (
        "import socket\n"
        "done = []\n"
        "for name, attempt in [\n"
        f"    ('connect', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=3)),\n"
        f"    ('read', lambda: open({str(secret)!r}).read()),\n"
        f"    ('write', lambda: open({str(target)!r}, 'w').write('x')),\n"
        "]:\n"
        "    try:\n"
        "        attempt()\n"
        "        done.append(name)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(done)\n"
    )


def test_a_virtual_environment_under_tmp_is_isolated(isolated, tmp_path):
    # The bug: a venv under /tmp was hidden by the sandbox's private /tmp, the probe failed, isolation silently went.
    with Listener() as listener, TemporaryDirectory(dir="/tmp", prefix="screenground-venv-") as venv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
        python = Path(venv, "bin", "python")
        site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        # PIL and numpy come from this test's environment, wherever that is, as a .pth file would bring them.
        outer = {sysconfig.get_paths()["purelib"], str(Path(Image.__file__).parents[1])}
        Path(site, "outer.pth").write_text("\n".join(outer))
        secret, target = tmp_path / "secret.txt", tmp_path / "written.txt"
        secret.write_text("top secret")
        report = (
            "import json, sys\n"
            "from tools import isolation, run_python\n"
            f"result = run_python({escape_attempt(listener.port, secret, target)!r})\n"
            "print(json.dumps([sys.prefix, isolation().mode, result.isolation, result.ok, result.stdout]))\n"
        )
        ran = subprocess.run([python, "-c", report], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert ran.returncode == 0, ran.stderr
        prefix, mode, used, ok, printed = json.loads(ran.stdout)
        assert prefix == venv and mode == used == "bwrap"
        assert ok and printed.strip() == "[]", printed
        assert not listener.reached() and not target.exists()


def test_without_isolation_the_code_does_not_run_unless_allowed(monkeypatch, tmp_path):
    monkeypatch.setenv("SCREENGROUND_SANDBOX", "none")
    secret, target = tmp_path / "secret.txt", tmp_path / "written.txt"
    secret.write_text("top secret")
    with Listener() as listener:
        code = escape_attempt(listener.port, secret, target)
        with pytest.raises(IsolationUnavailable, match=r"SCREENGROUND_SANDBOX=none.*allow_unisolated=True"):
            run_python(code)
        assert not listener.reached() and not target.exists()
        # What the opt-in gives up, shown by the same detectors the isolated tests rely on.
        result = run_python(code, allow_unisolated=True)
        assert result.ok and result.isolation == "none", result
        assert result.stdout.strip() == "['connect', 'read', 'write']"
        assert listener.reached() and target.read_text() == "x"


def test_a_machine_without_bubblewrap_says_so(monkeypatch, probe_again, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no bwrap on it, as on a fresh machine
    assert isolation() == Isolation("none", "bubblewrap is not installed: apt-get install bubblewrap")
    with pytest.raises(IsolationUnavailable, match="apt-get install bubblewrap"):
        run_python("print('ran')")


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
