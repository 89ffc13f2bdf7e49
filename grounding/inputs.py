"""Turning what users hand us (paths, PIL images in any mode, instructions) into what grounders expect."""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageError, InstructionError

# Larger than any real screen (an 8K triple-monitor desktop is ~100 Mpx); beyond this a file is a decompression bomb.
MAX_IMAGE_PIXELS = 160_000_000
MAX_INSTRUCTION_CHARS = 2000


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Read a screenshot from disk as an RGB image, or raise ImageError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"image not found: {path}")
    if not path.is_file():
        raise ImageError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise ImageError(f"image file is empty: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            try:
                with Image.open(path) as opened:
                    _check_size(opened.size, str(path))
                    opened.load()  # truncated files fail here, not later inside a model
                    image = opened.copy()
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image is too large (over {MAX_IMAGE_PIXELS:,} pixels): {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL reports unreadable/truncated data as these
        raise ImageError(f"cannot read image {path}: {exc}") from None
    return to_rgb(image)


def _check_size(size: tuple[int, int], where: str) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"image has no pixels ({w}x{h}): {where}")
    if w * h > MAX_IMAGE_PIXELS:
        raise ImageError(f"image is too large ({w}x{h}, over {MAX_IMAGE_PIXELS:,} pixels): {where}")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode (16-bit, palette, RGBA, grayscale, CMYK...) as 8-bit RGB; transparency lands on white."""
    if not isinstance(image, Image.Image):
        raise ImageError(f"expected a PIL image, got {type(image).__name__}")
    _check_size(image.size, "image passed in")
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16/32-bit data: stretch to 8 bits instead of letting PIL clip everything above 255 to white.
        array = np.asarray(image, dtype=np.float64)
        lo, hi = float(array.min()), float(array.max())
        scaled = np.zeros_like(array) if hi <= lo else (array - lo) * (255.0 / (hi - lo))
        return Image.fromarray(scaled.astype(np.uint8), mode="L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def check_instruction(instruction: str) -> str:
    if not isinstance(instruction, str):
        raise InstructionError(f"instruction must be a string, got {type(instruction).__name__}")
    text = " ".join(instruction.split())
    if not text:
        raise InstructionError("instruction is empty")
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise InstructionError(f"instruction is too long ({len(text)} characters, at most {MAX_INSTRUCTION_CHARS})")
    return text


def prepare(image: Image.Image, instruction: str) -> tuple[Image.Image, str]:
    """What every grounder calls first: an RGB image and a normalised, non-empty instruction."""
    return to_rgb(image), check_instruction(instruction)


def image_key(image: Image.Image) -> str:
    """A content hash, so caches keyed on it survive re-opening the same screenshot."""
    digest = hashlib.blake2b(digest_size=16)
    # The bytes of `image.tobytes()`, a band of rows at a time: the same digest without a copy of a whole 5K frame.
    for top in range(0, image.height, 256):
        digest.update(image.crop((0, top, image.width, min(image.height, top + 256))).tobytes())
    digest.update(f"{image.mode}{image.size}".encode())
    return digest.hexdigest()



# Successive images may be steps of one live screen, and a grounder may start from a like image it saw before (OCR
# re-reads only what changed). An evaluation's screenshots are unrelated: a sample's answer must not depend on which
# samples ran before it, so while one runs (in any thread: the zoom loop has its own), nothing is carried over.
_unrelated = 0
_unrelated_lock = threading.Lock()


@contextmanager
def unrelated_images() -> Iterator[None]:
    """While inside, grounders treat every image as a screen of its own (see `images_may_follow`)."""
    global _unrelated
    with _unrelated_lock:
        _unrelated += 1
    try:
        yield
    finally:
        with _unrelated_lock:
            _unrelated -= 1


def images_may_follow() -> bool:
    """Whether a grounder may read an image as a later step of a like one it saw (false during an evaluation)."""
    return _unrelated == 0
