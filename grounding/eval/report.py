"""Reading a run: the breakdown tables in the terminal, and a Markdown or HTML page with a chart and failure gallery.

The tables are built once as plain rows and rendered three ways (rich, Markdown, HTML), so they always agree.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..annotate import annotate
from ..errors import OptionError
from ..geometry import Box, Point, Transform
from ..inputs import load_image
from . import scoring
from .runner import Results

GALLERY_SIZE = 24
CROP_DISPLAY = (800, 500)  # each gallery picture fits in this, aspect kept
CROP_MARGIN = 80  # pixels of context around the truth box and the predicted point


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _type_cell(entry: Mapping[str, Any], ui_type: str) -> str:
    cell = entry.get("by_ui_type", {}).get(ui_type)
    return f"{_pct(cell['accuracy'])} ({cell['total']})" if cell else "-"


def tables(summary: Mapping[str, Any]) -> list[Table]:
    """The overall line, then one table per breakdown that has values."""
    latency = summary["latency_s"]
    by_type = summary["by_ui_type"]
    median, p90 = latency["median"], latency["p90"]
    overall = Table(
        f"{summary['model']} on {summary['dataset']}",
        ("metric", "value"),
        (
            ("samples scored", f"{summary['total']} of {summary['planned']}"),
            ("accuracy %", _pct(summary["accuracy"])),
            *((f"{t} accuracy %", f"{_pct(e['accuracy'])} ({e['total']})") for t, e in by_type.items()),
            ("wrong_format / errors", f"{summary['wrong_format']} / {summary['errors']}"),
            ("latency median / p90 s", "-" if median is None else f"{median:.3f} / {p90:.3f}"),
            ("model calls / tokens", f"{summary['calls']} / {summary['tokens']}"),
            ("wall s", f"{summary['wall_s']:.1f}"),
        ),
    )
    out = [overall]
    for key, title in (("by_group", "group"), ("by_application", "application"), ("by_platform", "platform"),
                       ("by_resolution", "resolution")):
        entries = summary.get(key) or {}
        if not entries:
            continue
        rows = tuple(
            (name, str(e["total"]), _pct(e["accuracy"]), _type_cell(e, "text"), _type_cell(e, "icon"),
             str(e["wrong_format"]))
            for name, e in entries.items()
        )
        out.append(Table(f"by {title}", (title, "samples", "accuracy %", "text % (n)", "icon % (n)", "wrong_format"),
                         rows))
    return out


def print_summary(summary: Mapping[str, Any], console=None) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    console = console or Console()
    for table in tables(summary):
        rich_table = RichTable(title=table.title, title_justify="left")
        for i, name in enumerate(table.header):
            rich_table.add_column(name, justify="left" if i == 0 else "right")
        for row in table.rows:
            rich_table.add_row(*row)
        console.print(rich_table)
    if summary.get("interrupted"):
        console.print(f"[yellow]interrupted: {summary['total']} of {summary['planned']} samples scored[/yellow]")


def markdown_table(table: Table) -> str:
    lines = [f"**{table.title}**", "", "| " + " | ".join(table.header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(table.header))) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<h3>{html.escape(table.title)}</h3><table><tr>{head}</tr>{body}</table>"


# ---- the page -----------------------------------------------------------------------------------------------------

def report_kind(path: str | Path) -> str:
    """The page's suffix, checked before a long run rather than after it."""
    kind = Path(path).suffix.lower()
    if kind not in (".md", ".markdown", ".html", ".htm"):
        raise OptionError(f"--report must end in .md or .html, got {Path(path).name!r}")
    return kind


def write_report(results: Results, path: str | Path, gallery: int = GALLERY_SIZE) -> Path:
    """Write `path` (.md or .html) with its pictures in a `<name>_files/` folder beside it."""
    path = Path(path)
    kind = report_kind(path)
    assets = path.with_name(path.stem + "_files")
    assets.mkdir(parents=True, exist_ok=True)
    summary = results.summary()
    chart = bar_chart(summary, assets / "accuracy_by_group.png")
    shots = failure_gallery(results, assets, gallery)
    rel = lambda p: f"{assets.name}/{p.name}"  # noqa: E731
    if kind in (".md", ".markdown"):
        parts = [f"# Grounding evaluation: {summary['model']}", "", _caption(summary), ""]
        parts += [markdown_table(t) + "\n" for t in tables(summary)]
        if chart:
            parts += [f"![accuracy by group]({rel(chart)})", ""]
        if shots:
            parts += [f"## Failures ({len(shots)} shown; green: truth, red: predicted point)", ""]
            parts += [f"{c}\n\n![failure {i}]({rel(p)})\n" for i, (p, c) in enumerate(shots)]
        text = "\n".join(parts)
    else:
        figures = "".join(
            f"<figure><img src='{html.escape(rel(p))}'><figcaption>{html.escape(c)}</figcaption></figure>"
            for p, c in shots
        )
        text = (
            "<!doctype html><meta charset='utf-8'>"
            f"<title>{html.escape(summary['model'])} evaluation</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}"
            "figure{display:inline-block;margin:8px;vertical-align:top;max-width:800px}</style>"
            f"<h1>Grounding evaluation: {html.escape(summary['model'])}</h1><p>{html.escape(_caption(summary))}</p>"
            + "".join(html_table(t) for t in tables(summary))
            + (f"<img src='{html.escape(rel(chart))}' alt='accuracy by group'>" if chart else "")
            + (f"<h2>Failures ({len(shots)} shown; green: truth, red: predicted point)</h2>{figures}" if shots else "")
        )
    path.write_text(text, encoding="utf-8")
    return path


def _caption(summary: Mapping[str, Any]) -> str:
    state = " (interrupted: partial)" if summary["interrupted"] else ""
    return (
        f"{summary['format']} dataset, bbox read as {summary['bbox_convention']}; {summary['total']} of "
        f"{summary['planned']} samples scored{state}; configuration {summary['fingerprint']}."
    )


def bar_chart(summary: Mapping[str, Any], path: Path) -> Path | None:
    """Accuracy per group (per platform when the dataset has no groups), overall and by text/icon."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state, safe in threads and without display

    entries = summary.get("by_group") or summary.get("by_platform") or {}
    if not entries:
        return None
    names = list(entries)
    series = [("all", [entries[n]["accuracy"] for n in names])]
    for ui_type in scoring.UI_TYPES:
        series.append((ui_type, [entries[n]["by_ui_type"].get(ui_type, {}).get("accuracy") for n in names]))
    figure = Figure(figsize=(max(6.0, 1.1 * len(names) + 2), 4), dpi=100)
    axes = figure.add_subplot()
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(names))]
        axes.bar(xs, [100 * (v or 0) for v in values], width, label=label)
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axes.set_ylabel("accuracy %")
    axes.set_ylim(0, 100)
    axes.set_title(f"{summary['model']}: accuracy by {'group' if summary.get('by_group') else 'platform'}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    return path


def failure_gallery(results: Results, folder: Path, limit: int = GALLERY_SIZE) -> list[tuple[Path, str]]:
    """Crops of failed samples with the truth box and predicted point, spread over applications."""
    from tools.image import zoom

    failures = _spread([d for d in results.details if d["correctness"] != scoring.CORRECT], limit)
    by_image: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for index, detail in enumerate(failures):
        by_image[detail["img_path"]].append((index, detail))
    shots: dict[int, tuple[Path, str]] = {}
    for img_path, items in by_image.items():
        try:
            image = load_image(img_path)  # once per screenshot
        except Exception:  # noqa: BLE001 -- a missing image just has no picture
            continue
        for index, detail in items:
            truth = _truth_in_image(detail, image.size)
            point = Point.of(detail["pred"]) if detail["pred"] else None
            region = Box.union_of([truth] + ([Box(point.x, point.y, point.x, point.y)] if point else []))
            view = zoom(image, region.expand(CROP_MARGIN).clip(*image.size), target_size=CROP_DISPLAY, min_size=64)
            back = view.to_parent.inverse()
            local_point = back.apply(point) if point and view.box.contains(point) else None
            picture = annotate(view.image, point=local_point, truth=back.apply_box(truth))
            name = f"fail_{index:03d}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', detail['id'])[:60]}.png"
            picture.save(folder / name)
            where = f"at ({point.x:.0f}, {point.y:.0f})" if point else detail["status"]
            shots[index] = (folder / name, f"{detail['id']} [{detail['ui_type']}]: {detail['prompt_to_evaluate']} "
                                           f"- predicted {where}")
    return [shots[i] for i in sorted(shots)]


def _truth_in_image(detail: Mapping[str, Any], size: tuple[int, int]) -> Box:
    """The truth box in the pixels of the image as loaded (the annotation's img_size may differ in mirrors)."""
    box = Box.of(detail["bbox"])
    annotated = detail.get("img_size")
    if annotated and tuple(annotated) != tuple(size):
        box = Transform.between_sizes(tuple(annotated), size).apply_box(box)
    return box


def _spread(details: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Round-robin over applications (or splits), so one bad application does not fill the gallery."""
    queues: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for detail in details:
        queues[str(detail.get("application") or detail.get("task_filename"))].append(detail)
    picked: list[dict[str, Any]] = []
    while len(picked) < limit and any(queues.values()):
        for name in list(queues):
            if queues[name] and len(picked) < limit:
                picked.append(queues[name].pop(0))
    return picked
