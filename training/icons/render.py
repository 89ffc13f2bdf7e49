"""Render every catalogued icon once to a 48 px RGBA tile; the sample synthesiser shrinks and dresses them later."""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from .sources import Icon

TILE = 48


def render(path: Path) -> np.ndarray | None:
    """The icon fitted into a TILE x TILE RGBA tile (aspect kept, centred), or None when it does not render."""
    import cairosvg

    try:
        if path.suffix == ".svg":
            data = cairosvg.svg2png(url=str(path), output_width=TILE)
            image = Image.open(io.BytesIO(data)).convert("RGBA")
            if image.height > TILE:
                data = cairosvg.svg2png(url=str(path), output_height=TILE)
                image = Image.open(io.BytesIO(data)).convert("RGBA")
        else:
            image = Image.open(path).convert("RGBA")
            image.thumbnail((TILE, TILE), Image.Resampling.LANCZOS)
    except Exception:  # noqa: BLE001 - a malformed file in a third-party set is skipped, not fatal
        return None
    tile = Image.new("RGBA", (TILE, TILE), (0, 0, 0, 0))
    tile.paste(image, ((TILE - image.width) // 2, (TILE - image.height) // 2))
    array = np.asarray(tile)
    return array if array[..., 3].max() > 64 else None


def _render_many(paths: list[Path]) -> list[np.ndarray | None]:
    return [render(p) for p in paths]


def render_all(icons: list[Icon], workers: int = 2) -> tuple[np.ndarray, list[int]]:
    """Tiles [N, TILE, TILE, 4] of the icons that rendered, and their indexes into `icons`."""
    chunks = [[icon.path for icon in icons[i : i + 500]] for i in range(0, len(icons), 500)]
    tiles, kept = [], []
    with ProcessPoolExecutor(workers) as pool:
        offset = 0
        for chunk, result in zip(chunks, pool.map(_render_many, chunks)):
            for i, tile in enumerate(result):
                if tile is not None:
                    tiles.append(tile)
                    kept.append(offset + i)
            offset += len(chunk)
    return np.stack(tiles), kept


def is_monochrome(tile: np.ndarray) -> bool:
    """One ink colour: such icons are recoloured freely (themes tint them); coloured ones keep their colours."""
    ink = tile[tile[..., 3] > 128][:, :3].astype(np.float32)
    return len(ink) == 0 or float(ink.std(axis=0).max()) < 12.0
