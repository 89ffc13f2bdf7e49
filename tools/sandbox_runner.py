"""The program inside the python tool's sandbox: limits itself, runs the model's code, saves the images it made.

It runs under `python -I` with only the standard library and PIL in reach (the sandbox cannot see this package),
so it imports nothing from it. Its one argument is a JSON object of settings written by `tools.sandbox`.
"""

import ast
import json
import os
import resource
import sys
import traceback

CODE_NAME = "<python tool>"


def _limit(settings):
    limits = {
        # A second of slack on the hard limit, so the kernel's first word is SIGXCPU (reported as such), not SIGKILL.
        resource.RLIMIT_CPU: (settings["cpu_s"], settings["cpu_s"] + 1),
        resource.RLIMIT_AS: (settings["memory_bytes"],) * 2,
        resource.RLIMIT_FSIZE: (settings["file_bytes"],) * 2,
        resource.RLIMIT_NOFILE: (settings["open_files"],) * 2,
        resource.RLIMIT_NPROC: (settings["processes"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, pair in limits.items():
        resource.setrlimit(which, pair)


def _drop_privileges(uid):
    # Root inside the sandbox would ignore RLIMIT_NPROC and every file mode; an unused uid has no files of its own.
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _run(code, namespace):
    """Runs the code; a last bare expression is evaluated and returned, as a notebook cell does."""
    tree = ast.parse(code, CODE_NAME, "exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, CODE_NAME, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), CODE_NAME, "eval"), namespace)


def _user_traceback(exc):
    """The error as the code's author needs it: only the frames of their code, then the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == CODE_NAME]
    lines = [f"line {f.lineno}" + (f", in {f.name}" if f.name != "<module>" else "") for f in frames]
    where = f" ({'; '.join(lines)})" if lines else ""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip() + where


def main():
    settings = json.loads(sys.argv[1])
    os.chdir(settings["workdir"])
    from PIL import Image

    made = []
    Image.Image.show = lambda self, *args, **kwargs: made.append(self.copy())
    namespace = {"__name__": "__main__"}
    if os.path.exists(settings["image_name"]):
        with Image.open(settings["image_name"]) as opened:
            namespace["image"] = opened.convert("RGB")
    if settings.get("uid") is not None:
        _drop_privileges(settings["uid"])
    _limit(settings)
    with open(settings["code_name"], encoding="utf-8") as handle:
        code = handle.read()
    os.write(settings["started_fd"], b"1")  # the wall-clock limit starts now, not while Python was starting
    os.close(settings["started_fd"])

    result = {"ok": True, "error": ""}
    try:
        value = _run(code, namespace)
        values = value if isinstance(value, (list, tuple)) else [value]
        made.extend(v for v in values if isinstance(v, Image.Image))
        if value is not None and not any(isinstance(v, Image.Image) for v in values):
            print(repr(value))
    except BaseException as exc:  # noqa: BLE001 -- the code's own failure is its result, SystemExit included
        result = {"ok": False, "error": _user_traceback(exc)}
    sys.stdout.flush()
    try:
        for index, picture in enumerate(made[: settings["max_images"]]):
            picture.save(f"{settings['made_prefix']}{index:02d}.png")
    except Exception as exc:  # noqa: BLE001 -- e.g. the file size limit; the text result still counts
        result = {"ok": False, "error": f"could not save an image the code made: {exc}"}
    with open(settings["result_name"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
