"""`run_python`: model-written code run in a throwaway sandbox, with the screenshot as the variable `image`.

Every run is a fresh `python -I` process in a fresh temporary directory holding the screenshot as `image.png`, with a
scrubbed environment, CPU-time / address-space / file-size / open-file / process-count limits, a wall-clock timeout
and a cap on the output kept. Where bubblewrap works (Linux), the process also gets its own network namespace (no
network at all), PID and IPC namespaces, and a filesystem made of read-only system and Python directories (the
interpreter's prefixes and package directories, wherever they live), a private /tmp and the work directory as the only
writable place; run as root, it also drops to an unused uid so the process limit holds and file modes apply.

Without bubblewrap (macOS, Windows, no namespaces, or SCREENGROUND_SANDBOX=none) only the limits, the scrubbed
environment and the fresh directory would apply: the code could reach the network and read or write whatever this
user can. `run_python` then refuses to run unless the caller passes `allow_unisolated=True`; `isolation()` says which
mode is in force and why, and every `RunResult` says which one its run had.
"""

from __future__ import annotations

import functools
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

IMAGE_NAME = "image.png"
CODE_NAME = ".code.py"
RESULT_NAME = ".result.json"
MADE_PREFIX = "_shown_"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
SANDBOX_DIR = "/sandbox"  # where the work directory appears inside bubblewrap
RUNNER = Path(__file__).with_name("sandbox_runner.py")
UNUSED_UID = 65534  # "nobody": owns no files, runs no other processes
STARTUP_LIMIT_S = 60.0  # for the interpreter and PIL to start, before the code's own time begins
FORCE_VARIABLE = "SCREENGROUND_SANDBOX"  # "none" (or "process") turns bubblewrap off, as on a machine without it
BWRAP, NONE = "bwrap", "none"


class IsolationUnavailable(RuntimeError):
    """run_python was asked to run code without OS isolation and without `allow_unisolated=True`."""


@dataclass(frozen=True)
class Isolation:
    mode: str  # BWRAP: namespaces and a read-only filesystem; NONE: limits and a scrubbed environment only
    reason: str = ""  # with NONE: why bubblewrap is not used, in a few words

    @property
    def isolated(self) -> bool:
        return self.mode == BWRAP


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1 << 30  # address space: numpy and PIL need a few hundred MB of it to start
    file_bytes: int = 32 << 20  # largest file the code may write (stdout counts too)
    open_files: int = 64
    processes: int = 32  # processes the sandbox may have at once (threads count)
    output_chars: int = 20_000  # stdout kept; the rest is cut with a note
    max_images: int = 8
    max_image_pixels: int = 40_000_000


@dataclass(frozen=True)
class RunResult:
    ok: bool  # the code ran to its end without raising
    stdout: str  # what it printed (stdout and stderr together), capped
    error: str  # why it failed: its exception, a limit it hit, or a timeout; "" when ok
    isolation: str  # BWRAP or NONE: what kept the code from this machine's network and files
    images: tuple[Image.Image, ...] = ()  # images it showed, left as its last expression, or saved in its directory
    elapsed_s: float = 0.0


def run_python(
    code: str,
    image: Image.Image | None = None,
    timeout_s: float = 10.0,
    limits: Limits = Limits(),
    *,
    allow_unisolated: bool = False,
) -> RunResult:
    """Run `code` in a fresh sandboxed process; never raises for the code's own failures.

    Inside, `image` is the screenshot (an RGB PIL image) and the working directory is a fresh empty folder. Images the
    code calls `.show()` on, returns as its last expression, or saves into that folder come back in `images`.
    Where bubblewrap cannot isolate the code it raises IsolationUnavailable, unless `allow_unisolated` is true: then
    the code runs with this user's network and files, under the limits only.
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a string, got {type(code).__name__}")
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    mode = isolation()
    if not (mode.isolated or allow_unisolated):
        raise IsolationUnavailable(
            f"no isolation for model-written code here ({mode.reason}); allow_unisolated=True runs it with this "
            "user's network and files"
        )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="screenground-sandbox-") as private:
        work = Path(private, "work")
        work.mkdir()
        (work / CODE_NAME).write_text(code, encoding="utf-8")
        if image is not None:
            image.convert("RGB").save(work / IMAGE_NAME)
        drop = mode.isolated and os.geteuid() == 0
        if drop:
            for path in (work, *work.iterdir()):
                os.chown(path, UNUSED_UID, UNUSED_UID)
        settings = {
            "workdir": SANDBOX_DIR if mode.isolated else str(work),
            "image_name": IMAGE_NAME,
            "code_name": CODE_NAME,
            "result_name": RESULT_NAME,
            "made_prefix": MADE_PREFIX,
            "max_images": limits.max_images,
            "uid": UNUSED_UID if drop else None,
            "cpu_s": math.ceil(timeout_s) + 1,
            "memory_bytes": limits.memory_bytes,
            "file_bytes": limits.file_bytes,
            "open_files": limits.open_files,
            "processes": limits.processes + (0 if drop else _processes_of_this_user()),
        }
        output_path = Path(private, "output")
        started_read, started_write = os.pipe()
        settings["started_fd"] = started_write
        with open(output_path, "wb") as output, open(started_read, "rb", buffering=0) as started:
            try:
                process = _start(_command(mode.isolated, work, settings), work, output, started_write)
            finally:
                os.close(started_write)
            returncode, timed_out = _wait(process, started, timeout_s)
        stdout = _read_capped(output_path, limits.output_chars)
        ok, error = _outcome(work / RESULT_NAME, returncode, timed_out, timeout_s)
        images = _collect_images(work, limits)
    return RunResult(ok, stdout, error, mode.mode, images, time.perf_counter() - start)


def isolation() -> Isolation:
    """The isolation run_python gives on this machine: BWRAP when a bubblewrap sandbox starts, else NONE and why."""
    forced = os.environ.get(FORCE_VARIABLE, "")
    if forced in (NONE, "process"):
        return Isolation(NONE, f"{FORCE_VARIABLE}={forced}")
    return _probe()


@functools.lru_cache(maxsize=1)
def _probe() -> Isolation:
    if sys.platform != "linux":
        return Isolation(NONE, f"bubblewrap needs Linux, this is {sys.platform}")
    if not shutil.which("bwrap"):
        return Isolation(NONE, "bubblewrap is not installed: apt-get install bubblewrap")
    with tempfile.TemporaryDirectory(prefix="screenground-probe-") as work:
        command = [*_bwrap_prefix(Path(work)), sys.executable, "-I", "-c", "import PIL"]
        try:
            probe = subprocess.run(command, capture_output=True, timeout=30, env=_clean_env(SANDBOX_DIR))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Isolation(NONE, f"bubblewrap did not start: {exc}")
    if probe.returncode != 0:
        said = probe.stderr.decode(errors="replace").strip().splitlines()
        return Isolation(NONE, f"bubblewrap cannot start a sandbox here: {said[-1] if said else probe.returncode}")
    return Isolation(BWRAP)


def _clean_env(home: str) -> dict[str, str]:
    # Nothing inherited: no API keys, no proxies, no PYTHON* variables; one thread for numpy's BLAS.
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def _python_dirs() -> list[str]:
    """The interpreter's prefixes, its package directories and the ones PIL and numpy live in, wherever they are (a
    virtual environment under /tmp included): all bound read-only into the sandbox."""
    import PIL

    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(os.path.realpath(sys.executable)).parent)}
    dirs.update(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))
    dirs.add(str(Path(PIL.__file__).resolve().parent.parent))
    try:
        import numpy

        dirs.add(str(Path(numpy.__file__).resolve().parent.parent))
    except ImportError:
        pass
    kept = sorted(os.path.abspath(d) for d in dirs if Path(d).is_dir() and not d.startswith("/usr/"))
    # A directory inside another one already bound needs no mount of its own.
    return [d for d in kept if not any(d != o and d.startswith(o.rstrip("/") + "/") for o in kept)]


def _bwrap_prefix(work: Path) -> list[str]:
    root = os.geteuid() == 0
    # As root, no user namespace: the runner needs real CAP_SETUID to become an unused uid (then it has no caps).
    namespaces = (
        ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
         "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        if root
        else ["--unshare-all"]
    )
    command = ["bwrap", *namespaces, "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in _clean_env(SANDBOX_DIR).items():
        command += ["--setenv", name, value]
    command += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        link = Path("/", name)
        if link.is_symlink():
            command += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            command += ["--ro-bind", str(link), str(link)]
    # The private /tmp first: mounted after the Python binds, it would hide a virtual environment living under /tmp.
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(16 << 20), "--tmpfs", "/tmp"]
    for directory in _python_dirs():
        # Mount points are made with the mode of their source; a 0700 /root would hide a Python installed under it.
        for parent in reversed(Path(directory).parents[:-1]):
            command += ["--perms", "0755", "--dir", str(parent)]
        command += ["--ro-bind", directory, directory]
    command += ["--ro-bind", str(RUNNER), "/runner.py"]
    command += ["--bind", str(work), SANDBOX_DIR, "--chdir", SANDBOX_DIR]
    return command


def _command(isolated: bool, work: Path, settings: dict) -> list[str]:
    if isolated:
        return [*_bwrap_prefix(work), sys.executable, "-I", "/runner.py", json.dumps(settings)]
    return [sys.executable, "-I", str(RUNNER), json.dumps(settings)]


def _start(command: list[str], work: Path, output, started_fd: int) -> subprocess.Popen:
    env = _clean_env(SANDBOX_DIR if command[0] == "bwrap" else str(work))
    return subprocess.Popen(
        command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        start_new_session=True, pass_fds=(started_fd,),
    )


def _wait(process: subprocess.Popen, started, timeout_s: float) -> tuple[int | None, bool]:
    """Waits for the runner to say the code starts (or to die first), then at most timeout_s for it to finish."""
    try:
        ready, _, _ = select.select([started], [], [], STARTUP_LIMIT_S)
        if ready and started.read(1):
            return process.wait(timeout=timeout_s), False
        return process.wait(timeout=1.0), False  # it ended (or broke) before running any code
    except subprocess.TimeoutExpired:
        return None, True
    finally:
        # The whole session: children the code forked die with it (inside bwrap, the PID namespace ends too).
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()


def _processes_of_this_user() -> int:
    # RLIMIT_NPROC counts every process of the real uid, so without a uid of its own the sandbox gets a margin on top.
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            count += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            continue
    return count


def _read_capped(path: Path, max_chars: int) -> str:
    with open(path, "rb") as handle:
        data = handle.read(max_chars * 4 + 1)
    text = data.decode("utf-8", errors="replace")
    if len(text) > max_chars or path.stat().st_size > len(data):
        return text[:max_chars] + f"\n[output cut at {max_chars} characters]"
    return text


def _outcome(result_path: Path, returncode: int | None, timed_out: bool, timeout_s: float) -> tuple[bool, str]:
    if timed_out:
        return False, f"timed out after {timeout_s:g} s (wall clock)"
    try:
        if result_path.is_file() and not result_path.is_symlink() and result_path.stat().st_size < 1 << 20:
            result = json.loads(result_path.read_text(encoding="utf-8"))
            return bool(result["ok"]), str(result["error"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    signals = {signal.SIGXCPU: "CPU time limit", signal.SIGKILL: "killed (memory or process limit)",
               signal.SIGXFSZ: "file size limit", signal.SIGSEGV: "crashed (segmentation fault)"}
    code = returncode or 0
    number = -code if code < 0 else code - 128 if code > 128 else 0
    reason = signals.get(number, f"exited with status {code}") if number else f"exited with status {code}"
    return False, f"the code stopped without finishing: {reason}"


def _collect_images(work: Path, limits: Limits) -> tuple[Image.Image, ...]:
    """Images left in the work directory (never through a link: the code may point one at a file it cannot read)."""
    found = []
    for entry in sorted(os.scandir(work), key=lambda e: (not e.name.startswith(MADE_PREFIX), e.name)):
        if entry.name == IMAGE_NAME or not entry.name.lower().endswith(IMAGE_SUFFIXES):
            continue
        if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_size > limits.file_bytes:
            continue
        picture = _open_image(entry.path, limits.max_image_pixels)
        if picture is not None:
            found.append(picture)
        if len(found) == limits.max_images:
            break
    return tuple(found)


def _open_image(path: str, max_pixels: int) -> Image.Image | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle, Image.open(handle) as opened:
            if opened.width * opened.height > max_pixels:
                return None
            opened.load()
            return opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
