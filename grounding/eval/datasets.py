"""Loaders for ScreenSpot-Pro and ScreenSpot v1/v2 style datasets, detected from the files themselves.

ScreenSpot-Pro: `annotations/*.json` + `images/`, bbox [x1, y1, x2, y2]. ScreenSpot v1/v2: `screenspot_*.json` next
to an image folder, bbox [x, y, w, h] -- except in mirrors that store corners, which `_detect_convention` recognises
from the numbers. Rows that cannot be scored (no instruction, no usable bbox) are skipped and listed in
`Dataset.problems`; samples whose image is missing stay in the dataset (the runner counts them as failures, so totals
match the dataset's real size) and are listed too.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import ImageError, OptionError
from ..geometry import Box

SCREENSPOT_PRO = "screenspot-pro"
# Instruction languages, as the official ScreenSpot-Pro harness names them (`--language en|cn`): cn reads each
# record's `instruction_cn`.
LANGUAGES = {"en": "instruction", "cn": "instruction_cn"}
SCREENSPOT = "screenspot"  # v1 and v2 share the record layout

XYXY = "xyxy"
XYWH = "xywh"

# v1/v2 split names, which the papers report as platforms (Mobile / Desktop / Web).
_SPLITS = ("mobile", "desktop", "web")


@dataclass(frozen=True)
class Sample:
    id: str
    image_path: Path
    instruction: str
    bbox: Box  # always [x1, y1, x2, y2] in the annotated image's pixels, whatever the file stored
    ui_type: str | None = None  # text | icon
    group: str | None = None
    application: str | None = None
    platform: str | None = None
    img_size: tuple[int, int] | None = None  # (w, h) as annotated; None where the format does not say
    data_source: str | None = None
    split: str | None = None  # the annotation file's stem (the official script's `task_filename`)


@dataclass(frozen=True)
class Problem:
    """A row that was skipped, or a sample that will fail, and why."""

    id: str | None
    where: str  # "file.json[12]"
    reason: str
    skipped: bool  # True: not in `samples`; False: kept and counted as a failure

    def __str__(self) -> str:
        action = "skipped" if self.skipped else "counted as a failure"
        return f"{self.where} ({self.id or 'no id'}): {self.reason}; {action}"


@dataclass(frozen=True)
class Dataset:
    path: Path
    format: str
    samples: tuple[Sample, ...]
    problems: tuple[Problem, ...]
    conventions: Mapping[str, str]  # annotation file name -> bbox convention it was read with
    language: str = "en"  # which instruction each sample carries (LANGUAGES)

    @property
    def bbox_convention(self) -> str:
        used = sorted(set(self.conventions.values()))
        return used[0] if len(used) == 1 else "mixed: " + ", ".join(f"{k}={v}" for k, v in self.conventions.items())

    def __len__(self) -> int:
        return len(self.samples)

    def describe(self) -> str:
        images = len({s.image_path for s in self.samples})
        return (
            f"{self.path}: {self.format}, {len(self.samples)} samples on {images} screenshots, "
            f"bbox read as {self.bbox_convention}, instructions in {self.language}"
        )


FILTER_KEYS = tuple(f.name for f in fields(Sample) if f.name not in ("image_path", "bbox", "img_size"))


def load_dataset(
    path: str | Path, filters: Mapping[str, str | Sequence[str]] | None = None, language: str = "en"
) -> Dataset:
    """Read a dataset directory (or one annotation file), detecting its format and bbox convention.

    `filters` keeps samples whose field matches one of the given values (case-insensitive), e.g.
    {"ui_type": "icon", "group": ["CAD", "Dev"]}; different keys must all match. `language` "cn" takes each
    record's `instruction_cn` (a record without one is skipped and listed), as the official harness does.
    """
    if language not in LANGUAGES:
        raise OptionError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    path = Path(path).expanduser()
    if not path.exists():
        raise ImageError(f"dataset not found: {path}")
    files, image_roots = _locate(path)
    samples: list[Sample] = []
    problems: list[Problem] = []
    conventions: dict[str, str] = {}
    formats: set[str] = set()
    for file in files:
        rows = _read_rows(file)
        fmt = _record_format(rows)
        if fmt is None:
            problems.append(Problem(None, file.name, "no ScreenSpot records in this file", skipped=True))
            continue
        formats.add(fmt)
        root = _image_root(rows, image_roots)
        convention = XYXY if fmt == SCREENSPOT_PRO else _detect_convention(rows, root)
        conventions[file.name] = convention
        _parse_rows(file, rows, fmt, convention, root, samples, problems, LANGUAGES[language])
    if not formats:
        raise ImageError(f"no ScreenSpot-style annotations found under {path}")
    samples = _unique_ids(samples, problems)
    problems.extend(_missing_images(samples))
    if filters:
        samples = _apply_filters(samples, filters)
    fmt = formats.pop() if len(formats) == 1 else "mixed"
    return Dataset(path, fmt, tuple(samples), tuple(problems), conventions, language)


def _locate(path: Path) -> tuple[list[Path], list[Path]]:
    """The annotation files, and the folders their image paths may be relative to (most likely first)."""
    if path.is_file():
        return [path], _candidate_roots(path.parent)
    annotations = path / "annotations"
    if annotations.is_dir():
        files = sorted(annotations.glob("*.json"))
        roots = [path / "images", *_candidate_roots(path)]
    else:
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        roots = _candidate_roots(path)
        if not files and path.name == "annotations":
            return _locate(path.parent) if (path.parent / "annotations").is_dir() else ([], roots)
    if not files:
        raise ImageError(f"no annotation files (*.json) in {path} or {annotations}")
    return files, roots


def _candidate_roots(folder: Path) -> list[Path]:
    roots = [folder / "images", folder.parent / "images", folder, folder.parent]
    roots += sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    seen: list[Path] = []
    for root in roots:
        if root.is_dir() and root not in seen:
            seen.append(root)
    return seen


def _read_rows(file: Path) -> list[Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageError(f"cannot read annotation file {file}: {exc}") from None
    if isinstance(data, dict):  # some mirrors wrap the list
        data = next((v for v in data.values() if isinstance(v, list)), [])
    return data if isinstance(data, list) else []


def _record_format(rows: list[Any]) -> str | None:
    keys = Counter(k for row in rows if isinstance(row, dict) for k in row)
    if not keys:
        return None
    if keys["ui_type"] or keys["application"] or keys["img_size"]:
        return SCREENSPOT_PRO
    if keys["data_type"] or keys["data_source"] or keys["img_filename"]:
        return SCREENSPOT
    return None


def _image_root(rows: list[Any], roots: list[Path]) -> Path:
    """The root under which most of the file's image paths exist (the first candidate when none do)."""
    names = [row["img_filename"] for row in rows[:50]
             if isinstance(row, dict) and isinstance(row.get("img_filename"), str)]
    best, best_hits = (roots[0] if roots else Path(".")), 0
    for root in roots:
        hits = sum((root / name).is_file() for name in names)
        if hits > best_hits:
            best, best_hits = root, hits
    return best


def _numbers(value: Any) -> list[float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    return numbers if all(math.isfinite(v) for v in numbers) else None


def _detect_convention(rows: list[Any], root: Path) -> str:
    """xywh (the v1/v2 default) or xyxy, from the boxes themselves.

    As corners, a box whose third number is below its first is impossible; as x, y, w, h, a box that ends outside
    its image is impossible. The reading with fewer impossible rows wins; image headers are read only when the
    corner reading is still possible (real xywh files rule it out within a few rows).
    """
    boxes = [(row, b) for row in rows if isinstance(row, dict) and (b := _numbers(row.get("bbox")))]
    not_corners = sum(1 for _, b in boxes if b[2] < b[0] or b[3] < b[1])
    if not_corners:
        return XYWH
    outside = 0
    for row, b in boxes:
        size = _size_of(row, root)
        if size and (b[0] + b[2] > size[0] + 1 or b[1] + b[3] > size[1] + 1):
            outside += 1
    return XYXY if outside else XYWH


def _size_of(row: Mapping[str, Any], root: Path) -> tuple[int, int] | None:
    size = _img_size(row.get("img_size"))
    if size:
        return size
    name = row.get("img_filename")
    if not isinstance(name, str) or not (root / name).is_file():
        return None
    from PIL import Image

    try:
        with Image.open(root / name) as image:  # reads the header only
            return image.size
    except (OSError, ValueError):
        return None


def _img_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            w, h = int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
        if w > 0 and h > 0:
            return (w, h)
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_rows(
    file: Path,
    rows: list[Any],
    fmt: str,
    convention: str,
    root: Path,
    samples: list[Sample],
    problems: list[Problem],
    instruction_key: str = "instruction",
) -> None:
    split = file.stem
    platform_from_split = next((s for s in _SPLITS if s in split.lower()), None)
    for index, row in enumerate(rows):
        where = f"{file.name}[{index}]"
        if not isinstance(row, dict):
            problems.append(Problem(None, where, "not a JSON object", skipped=True))
            continue
        sample_id = _text(row.get("id")) or f"{split}_{index}"
        reason = None
        instruction = _text(row.get(instruction_key))
        image_name = _text(row.get("img_filename"))
        numbers = _numbers(row.get("bbox"))
        if instruction is None:
            reason = f"no {instruction_key}"
        elif image_name is None:
            reason = "no img_filename"
        elif numbers is None:
            reason = f"bbox is not four numbers: {row.get('bbox')!r}"
        else:
            try:
                box = Box(*numbers) if convention == XYXY else Box.from_xywh(*numbers)
            except ValueError as exc:
                reason = f"unusable bbox {numbers} read as {convention}: {exc}"
        if reason:
            problems.append(Problem(sample_id, where, reason, skipped=True))
            continue
        samples.append(
            Sample(
                id=sample_id,
                image_path=root / image_name,
                instruction=instruction,
                bbox=box,
                ui_type=_text(row.get("ui_type") or row.get("data_type")),
                group=_text(row.get("group")),
                application=_text(row.get("application")),
                platform=_text(row.get("platform")) or (platform_from_split if fmt == SCREENSPOT else None),
                img_size=_img_size(row.get("img_size")),
                data_source=_text(row.get("data_source")),
                split=split,
            )
        )


def _unique_ids(samples: list[Sample], problems: list[Problem]) -> list[Sample]:
    """Journals and resume key on ids, so a repeated id gets a suffix (and a note)."""
    seen: Counter[str] = Counter()
    out = []
    for sample in samples:
        seen[sample.id] += 1
        if seen[sample.id] > 1:
            new_id = f"{sample.id}#{seen[sample.id]}"
            problems.append(Problem(sample.id, sample.split or "", f"duplicate id, renamed {new_id}", skipped=False))
            sample = replace(sample, id=new_id)
        out.append(sample)
    return out


def _missing_images(samples: Iterable[Sample]) -> list[Problem]:
    exists: dict[Path, bool] = {}
    problems = []
    for sample in samples:
        if sample.image_path not in exists:
            exists[sample.image_path] = sample.image_path.is_file()
        if not exists[sample.image_path]:
            problems.append(
                Problem(sample.id, sample.split or "", f"image not found: {sample.image_path}", skipped=False)
            )
    return problems


def parse_filters(pairs: Iterable[str]) -> dict[str, list[str]]:
    """`key=value` strings (value may list alternatives with commas) into a filter mapping."""
    filters: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise OptionError(f"--filter expects KEY=VALUE, got {pair!r}")
        filters.setdefault(key, []).extend(v.strip() for v in value.split(",") if v.strip())
    return filters


def _apply_filters(samples: list[Sample], filters: Mapping[str, str | Sequence[str]]) -> list[Sample]:
    wanted: dict[str, set[str]] = {}
    for key, values in filters.items():
        if key not in FILTER_KEYS:
            raise OptionError(f"cannot filter on {key!r} (use one of: {', '.join(FILTER_KEYS)})")
        values = [values] if isinstance(values, str) else list(values)
        wanted[key] = {str(v).lower() for v in values}
    return [s for s in samples if all(str(getattr(s, key)).lower() in values for key, values in wanted.items())]
