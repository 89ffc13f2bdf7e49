"""Bad and unusual inputs, through the API (`grounding.inputs`) and through `ground locate` as a real subprocess.

Bad input must end in one line on stderr and a non-zero exit, never a traceback; unusual but valid images (16-bit,
palette, RGBA, grayscale) must be read and grounded like any other.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from grounding.errors import ImageError, InstructionError
from grounding.inputs import MAX_IMAGE_PIXELS, check_instruction, load_image, to_rgb
from tests.conftest import REPO

SAMPLE = REPO / "samples/images/libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
# The writer's menu bar; "Edit" sits at x 37..76 in the full screenshot (samples/annotations).
MENU_BAR = (0, 0, 600, 60)
EDIT_BOX = (37, 21, 76, 48)


def _png(width: int, height: int, body: bytes = b"") -> bytes:
    """A PNG whose header claims width x height, with whatever pixel data follows (for broken files)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(body)) + chunk(b"IEND", b"")


def ground(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SCREENGROUND_DEBUG", "SCREENGROUND_OCR_CACHE")}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "locate", *args], capture_output=True, text=True, cwd=REPO, env=env,
        timeout=120, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ground: error: ")
    for needle in needles:
        assert needle in lines[0]
    assert result.stdout == ""


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    files = {
        "empty": b"",
        "text": b"this is not an image\n",
        "truncated": SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2],
        "zero_width": _png(0, 40),
        "bomb": _png(20_000, 20_000),  # 400 Mpx claimed in a few bytes
    }
    paths = {}
    for name, data in files.items():
        paths[name] = root / f"{name}.png"
        paths[name].write_bytes(data)
    paths["directory"] = root
    paths["missing"] = root / "missing.png"
    return paths


CASES = {
    "missing": "not found",
    "directory": "not a file",
    "empty": "empty",
    "text": "cannot read image",
    "truncated": "cannot read image",
    "zero_width": "cannot read image",
    "bomb": "too large",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_image_file_in_the_api(bad_files, case):
    with pytest.raises(ImageError, match=CASES[case]):
        load_image(bad_files[case])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_image_file_on_the_command_line(bad_files, case):
    assert_one_line_error(ground(str(bad_files[case]), "open the File menu"), CASES[case], str(bad_files[case]))


def test_bomb_limit_is_above_real_screens():
    assert 7680 * 4320 * 3 < MAX_IMAGE_PIXELS < 20_000 * 20_000


def test_zero_sized_image_object_is_rejected():
    with pytest.raises(ImageError, match="no pixels"):
        to_rgb(Image.new("RGB", (0, 10)))


@pytest.mark.parametrize("instruction", ["", "   ", "\t\n"])
def test_empty_instruction_api(instruction):
    with pytest.raises(InstructionError, match="empty"):
        check_instruction(instruction)


@pytest.mark.parametrize("instruction", ["", "   \t "])
def test_empty_instruction_on_the_command_line(instruction):
    assert_one_line_error(ground(str(SAMPLE), instruction), "instruction is empty")


def _menu_bar_in_mode(mode: str) -> Image.Image:
    crop = Image.open(SAMPLE).convert("RGB").crop(MENU_BAR)
    if mode == "I;16":
        # 16-bit grayscale with the full 0..65535 range, as scientific tools write it.
        gray = crop.convert("L")
        return Image.frombytes("I;16", gray.size, bytes(b for v in gray.tobytes() for b in (v, v)))
    if mode == "RGBA":
        rgba = crop.convert("RGBA")
        rgba.putalpha(255)
        return rgba
    if mode == "P":
        return crop.quantize(64)
    return crop.convert(mode)


@pytest.mark.parametrize("mode", ["I;16", "P", "RGBA", "L"])
def test_unusual_modes_are_grounded_like_rgb(tmp_path, mode):
    path = tmp_path / f"menu_{mode.replace(';', '')}.png"
    image = _menu_bar_in_mode(mode)
    image.save(path)
    assert Image.open(path).mode == image.mode  # the file really is in that mode
    result = ground(str(path), "click 'Edit' in the menu bar", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    x, y = answer["point"]
    x1, y1, x2, y2 = EDIT_BOX
    assert x1 <= x <= x2 and y1 <= y <= y2, answer


def test_transparent_pixels_land_on_white():
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert to_rgb(image).getpixel((1, 1)) == (255, 255, 255)
