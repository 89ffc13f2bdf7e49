"""The house rules the code keeps: imports point one way (the contracts in pyproject.toml), every module imports on
its own (no import cycles hidden by import order), nothing heavy or display-bound loads with the grounding package,
and the code passes the linter configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import REPO, require_module

PACKAGES = ("grounding", "agent", "tools")
# Loaded inside the functions that need them, never on import (the CLI's --help and the offline scorer stay fast and
# work without a display).
LAZY = ("torch", "transformers", "pyautogui", "mss", "httpx", "onnxruntime", "rapidocr_onnxruntime", "matplotlib")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return [name for name in names if not name.endswith("__main__")]


def test_the_import_contracts_hold():
    require_module("importlinter", "pip install -e '.[dev]'")
    out = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_module_imports_on_its_own():
    def fresh_import(name: str) -> tuple[str, str]:
        out = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=REPO)
        return name, out.stderr.strip().splitlines()[-1] if out.returncode else ""

    with ThreadPoolExecutor(4) as pool:
        failures = {name: error for name, error in pool.map(fresh_import, _modules()) if error}
    assert not failures


def test_importing_grounding_and_listing_grounders_loads_nothing_heavy():
    code = ("import sys, grounding; grounding.available(); import grounding.cli.options, grounding.eval; "
            f"print(sorted(set({LAZY!r}) & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_code_passes_the_linter():
    ruff = require_module("ruff", "pip install -e '.[dev]'")
    binary = ruff.find_ruff_bin() if hasattr(ruff, "find_ruff_bin") else "ruff"
    out = subprocess.run([str(binary), "check", "--quiet", "."], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-4000:]
