"""Build the "meaning" dev splits from hand-written instructions for targets of the dev set.

    python3 benchmarks/meaning/build.py            # writes paraphrase/ and relation/ next to this file
    python3 benchmarks/meaning/build.py --check    # only checks the sources (no label quoted, ids known)

Each split is a ScreenSpot-Pro folder (`annotations/<app>_<platform>.json` + `images/`) that `ground eval` reads.
Its records are the dev set's records (same screenshot, same truth box) with another instruction: the dev
instruction is kept in `instruction_dev`, the target's label in `label`. `images` is a relative link to the dev set's
images (`../shared/bench/dev/images`), so nothing is copied.

paraphrase.tsv: instructions that describe what a target does or looks like, written so they do not quote its label.
The build refuses one that contains the label as a phrase, or every word of a label of several words.
relation.tsv: instructions that find a target by its place or order ("the field right of 'Family:'", "the second
Cancel button"), whose truth is the dev target named in the first column.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEV = REPO.parent / "shared" / "bench" / "dev"
sys.path.insert(0, str(REPO))

from grounding.ocr.instruction import parse  # noqa: E402
from grounding.ocr.match import normalize  # noqa: E402

SPLITS = ("paraphrase", "relation")
# The applications whose results may be looked at while tuning; the others are reported, never inspected.
TUNING_APPS = ("Django admin", "Geany", "JupyterLab", "LibreOffice Writer", "MLflow", "Thunar")


def read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise SystemExit(f"{path.name}:{number}: expected 'id<TAB>instruction', got {line!r}")
        rows.append((parts[0].strip(), parts[1].strip()))
    return rows


def dev_records() -> dict[str, tuple[str, dict]]:
    """Every dev record by id, with the stem of the annotation file it came from."""
    records = {}
    for file in sorted((DEV / "annotations").glob("*.json")):
        for record in json.loads(file.read_text(encoding="utf-8")):
            records[record["id"]] = (file.stem, record)
    if not records:
        raise SystemExit(f"no dev annotations under {DEV}")
    return records


def label_of(record: dict) -> str:
    """The target's visible or accessible name: the dev record's `name`, else what its instruction quotes/names."""
    return record.get("name") or parse(record["instruction"]).target


def quotes_label(instruction: str, label: str) -> bool:
    """Whether the instruction gives the label away: as a phrase of whole words, or (for a label of several words)
    every one of its words."""
    said, named = normalize(instruction), normalize(label)
    if not named:
        return False
    if re.search(rf"(?<!\w){re.escape(named)}(?!\w)", said):
        return True
    words = set(said.split())
    label_words = named.split()
    return len(label_words) > 1 and all(word in words for word in label_words)


def build(split: str, check_only: bool) -> int:
    records = dev_records()
    rows = read_tsv(HERE / f"{split}.tsv")
    problems, out = [], {}
    seen = set()
    for dev_id, instruction in rows:
        if dev_id not in records:
            problems.append(f"{dev_id}: not a dev target")
            continue
        stem, record = records[dev_id]
        label = label_of(record)
        if split == "paraphrase" and quotes_label(instruction, label):
            problems.append(f"{dev_id}: {instruction!r} quotes the label {label!r}")
        new_id = f"{split}_{dev_id}"
        if new_id in seen:  # the same target asked twice gets a numbered id
            new_id = f"{new_id}_{sum(i.startswith(new_id) for i in seen) + 1}"
        seen.add(new_id)
        out.setdefault(stem, []).append({
            **{k: v for k, v in record.items() if k not in ("id", "instruction", "name")},
            "id": new_id,
            "instruction": instruction,
            "instruction_dev": record["instruction"],
            "label": label,
            "tuning": record["application"] in TUNING_APPS,
        })
    for problem in problems:
        print(f"{split}: {problem}", file=sys.stderr)
    if problems or check_only:
        return 1 if problems else 0
    folder = HERE / split
    annotations = folder / "annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    for old in annotations.glob("*.json"):
        old.unlink()
    for stem, rows_ in out.items():
        text = json.dumps(rows_, indent=1, ensure_ascii=False) + "\n"
        (annotations / f"{stem}.json").write_text(text, encoding="utf-8")
    link = folder / "images"
    if not link.is_symlink():
        os.symlink(os.path.relpath(DEV / "images", folder), link)
    total = sum(len(v) for v in out.values())
    tuning = sum(r["tuning"] for v in out.values() for r in v)
    print(f"{split}: {total} instructions ({tuning} on tuning apps) in {folder.relative_to(REPO)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check the sources only, write nothing")
    parser.add_argument("splits", nargs="*", default=[s for s in SPLITS if (HERE / f"{s}.tsv").is_file()])
    args = parser.parse_args(argv)
    return max(build(split, args.check) for split in args.splits)


if __name__ == "__main__":
    raise SystemExit(main())
