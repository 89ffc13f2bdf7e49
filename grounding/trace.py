"""Writing a prediction's zoom trace as pictures: the visual chain of thought behind a click.

`write_trace(image, prediction, DIR)` writes, for every look that had a crop, that crop as the grounder saw it (re-cut
from the original image with the step's crop box and magnification) with the answer drawn; `overview.png`, the whole
screen with every crop outlined and the final answer; and `trace.json`, the prediction with its trace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PIL import Image

from tools.image import zoom

from .annotate import annotate
from .errors import OptionError
from .inputs import to_rgb
from .types import Prediction, TraceStep


def write_trace(image: Image.Image, prediction: Prediction, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the trace pictures and trace.json into out_dir (created if needed); returns the files written."""
    image = to_rgb(image)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [_write_step(image, step, index, out) for index, step in enumerate(prediction.trace, 1) if step.crop]
        overview = annotate(
            image, prediction.point, prediction.box, crops=[step.crop for step in prediction.trace if step.crop]
        )
        written.append(_save(overview, out / "overview.png"))
        record = {**prediction.to_dict(), "files": [path.name for path in written]}
        (out / "trace.json").write_text(json.dumps(record, indent=1) + "\n")
    except OSError as exc:
        raise OptionError(f"cannot write the trace to {out}: {exc.strerror or exc}") from None
    return [*written, out / "trace.json"]


def _write_step(image: Image.Image, step: TraceStep, index: int, out: Path) -> Path:
    view = zoom(image, step.crop, scale=step.scale)
    # The step's point is in the original pixels; the crop shows it where the grounder saw it.
    point = view.to_parent.inverse().apply(step.point) if step.point is not None else None
    label = f"{step.kind} x{step.scale:.2f} score {step.score:.2f}"
    return _save(annotate(view.image, point, label=label), out / f"{index:02d}-{step.kind}.png")


def _save(picture: Image.Image, path: Path) -> Path:
    picture.save(path)
    return path
