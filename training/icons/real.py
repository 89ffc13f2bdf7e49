"""From harvested shots to training crops and to the held-out screens.

A shot is cut the way the runtime cuts a screenshot: OCR reads it, confidently read words are blocked, proposals
are found and cropped (grounding.icons.grounder.IconGrounder.regions). Then the accessibility tree labels them:
- a region centred inside a named control of icon size is that control: its crop learns the control's name (and
  its description, the tooltip, as tags), since at run time answering any such region is a hit;
- a region inside no control at all (labels, text areas, rulers, toolbar backgrounds, separators) is background,
  what the model must learn is not a control; regions inside list items, cells and unnamed controls are left out,
  since they may well be icons nobody named.
Held-out applications give no crops; their shots become a ScreenSpot-Pro-format set of click targets (`heldout/`),
built the way the dev set was: the accessible name makes the instruction, and a target is an icon when OCR does not
read its name inside its box.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.geometry import Box

from .harvest.apps import APPS

# Roles of controls an instruction clicks (AT-SPI's names, then Chromium's).
CONTROLS = frozenset([
    "push button", "toggle button", "push button menu", "page tab", "check box", "radio button", "link", "icon",
    "button", "tab", "checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio", "ToggleButton",
    "PopUpButton", "img", "image", "graphics-symbol", "generic",
])
# Roles whose regions may be unnamed icons (file-type icons in lists, images in cells): never background.
MAYBE_ICONS = frozenset(["list item", "table cell", "tree item", "listitem", "treeitem", "option", "row", "cell",
                         "gridcell", "menu item", "menuitem", "combo box", "combobox", "tool bar item"])
ICON_SIDE = 64  # largest side of an icon-size control at scale 1, in pixels
_SHORTCUT = re.compile(r"\s*[(\[]?\b(ctrl|shift|alt|cmd|meta|super)\s*\+.*$", re.IGNORECASE)
# Instructions as the dev set words them; the last ones only for icons (they would not ask for drawn words so).
_TEMPLATES = ("click {name}", "click the {name} button", "press '{name}'", "use {name}", "{name}",
              'Click the "{name}" button', "the {name} icon", "press the {name} icon", "{lower}")


def clean(name: str) -> str:
    """An accessible name as a person would say it: no mnemonics, ellipses or shortcut hints; '' when it names
    nothing (an icon font's private character, a number, a file name)."""
    text = _SHORTCUT.sub("", name.replace("_", " ").replace("…", "").replace("...", "")).strip(" :-")
    text = re.sub(r"\s+", " ", text)
    if not re.search(r"[A-Za-z]{2}", text) or re.search(r"\.[a-z0-9]{2,4}$|/", text):
        return ""
    return text


@dataclass(frozen=True)
class Shot:
    app: str
    path: Path  # the png
    scale: int
    elements: tuple[dict, ...]


def shots(folder: Path) -> list[Shot]:
    found = []
    for record in sorted(folder.glob("*/*.json")):
        data = json.loads(record.read_text())
        scale = int(data["look"]["scale"])
        png = record.with_suffix(".png")
        found.append(Shot(record.parent.name, png, scale, tuple(_in_pixels(data["elements"], _size(png), scale))))
    return found


def _size(png: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(png) as image:
        return image.size


def _in_pixels(elements: list[dict], size: tuple[int, int], scale: int) -> list[dict]:
    """The elements with boxes in the screenshot's pixels. Some toolkits at scale 2 (GTK 2 through its bridge, some
    Qt 5 windows) publish extents in unscaled units, and the walker corrects them only for a window it can match
    on the X server; the window's frame (sized to the screenshot) then spans exactly 1/scale of it, which gives them
    away. (A GTK 2 window that does not scale at all keeps its own size and is left alone.)"""
    if scale == 1 or not elements:
        return elements
    x1, y1, x2, y2 = max((e["image_box"] for e in elements), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    width, height = x2 - x1, y2 - y1
    if abs(width * scale - size[0]) > 0.05 * size[0] or abs(height * scale - size[1]) > 0.05 * size[1]:
        return elements
    return [{**e, "image_box": [v * scale for v in e["image_box"]]} for e in elements]


def _box(element: dict) -> Box:
    return Box.of(element["image_box"])


def _icon_size(element: dict, scale: int) -> bool:
    box = _box(element)
    return max(box.width, box.height) <= ICON_SIDE * scale and min(box.width, box.height) >= 6 * scale


def crops_of(shot: Shot, grounder, variants: int = 1) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The shot's labelled crops: uint8 [N, INPUT, INPUT, 3] and (name, description) per crop, ("", "") for
    background. Each region gives its runtime crop and `variants - 1` more whose side and centre jitter as much as
    the synthetic crops' do (a proposal's ink box varies with the look around it)."""
    from grounding.icons.crops import PAD, cut, square
    from grounding.icons.offline import words_on_screen
    from grounding.inputs import load_image

    image = load_image(shot.path)
    pixels = np.asarray(image)
    boxes, crops = grounder.icons.regions(pixels, words_on_screen(grounder.text.read(image)))
    controls = [(e, _box(e)) for e in shot.elements if e["role"] in CONTROLS]
    named = [(e, box) for e, box in controls if clean(e["name"]) and _icon_size(e, shot.scale)]
    cover = [box for e, box in controls] + [_box(e) for e in shot.elements if e["role"] in MAYBE_ICONS]
    keep, labels, background = [], [], []
    for i, region in enumerate(boxes):
        centre = region.center
        owners = [(e, box) for e, box in named if box.contains(centre)]
        if owners:
            element, _ = min(owners, key=lambda item: item[1].area)  # the innermost control
            description = clean(element.get("description", ""))
            keep.append(i)
            labels.append((clean(element["name"]), description if description != clean(element["name"]) else ""))
        elif not any(box.contains(centre) for box in cover):
            background.append(i)
    # As much background as controls, so a screen of text does not drown the names.
    rng = random.Random(str(shot.path))
    background = sorted(rng.sample(background, min(len(background), max(4, len(keep)))))
    order = keep + background
    labels = labels + [("", "")] * len(background)
    jitter = np.random.default_rng(len(str(shot.path)) + sum(map(ord, str(shot.path))))
    extra = []
    for _ in range(variants - 1):
        squares = []
        for i in order:
            side = max(boxes[i].width, boxes[i].height) * PAD * float(np.exp(jitter.normal(0, 0.15)))
            dx, dy = jitter.normal(0, 0.05, 2) * side
            squares.append(square(boxes[i].center.x + dx, boxes[i].center.y + dy, side))
        extra.append(cut(pixels, squares))
    return np.concatenate([crops[order], *extra]), labels * variants


def build(cache: Path) -> None:
    """real.npz (the training applications' crops) and heldout/ (the held-out applications' click targets)."""
    import grounding

    grounder = grounding.load("offline", zoom=False)
    held_out = {app.name for app in APPS if app.held_out}
    all_shots = shots(cache / "harvest" / "shots")
    parts, names, descriptions, apps = [], [], [], []
    for number, shot in enumerate(s for s in all_shots if s.app not in held_out):
        crops, labels = crops_of(shot, grounder, variants=3)
        parts.append(crops)
        names += [n for n, _ in labels]
        descriptions += [d for _, d in labels]
        apps += [shot.app] * len(labels)
        if number % 50 == 0:
            print(f"{number} shots, {sum(map(len, parts))} crops", flush=True)
    np.savez(cache / "real.npz", crops=np.concatenate(parts), name=np.array(names), description=np.array(descriptions),
             app=np.array(apps))
    labelled = sum(bool(n) for n in names)
    print(f"real crops: {labelled} labelled, {len(names) - labelled} background, from {len(set(apps))} applications")
    screens(cache / "heldout", [s for s in all_shots if s.app in held_out], grounder)


def screens(folder: Path, held: list[Shot], grounder) -> None:
    """A ScreenSpot-Pro-format set of the held-out shots' named controls, one instruction each."""
    from rapidfuzz import fuzz

    from grounding.inputs import load_image

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "annotations").mkdir(parents=True)
    toolkits = {app.name: app.toolkit for app in APPS}
    records: dict[str, list[dict]] = {}
    for shot in held:
        image = load_image(shot.path)
        page = grounder.text.read(image)
        target = folder / "images" / shot.app / shot.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot.path, target)
        controls = [e for e in shot.elements if e["role"] in CONTROLS and clean(e["name"])]
        counts: dict[str, int] = {}
        for element in controls:
            counts[clean(element["name"]).lower()] = counts.get(clean(element["name"]).lower(), 0) + 1
        rows = records.setdefault(shot.app, [])
        for element in controls:
            name, box = clean(element["name"]), _box(element)
            if counts[name.lower()] > 1 or box.width > image.width / 4 or box.height > image.height / 8:
                continue  # names are unique among a screenshot's targets, and targets are controls, not panels
            inside = " ".join(line.text for line in page.lines if box.contains(line.box.center))
            shown = bool(inside) and fuzz.partial_ratio(name.lower(), inside.lower()) >= 80
            rng = random.Random(f"{shot.path.name}/{name}")
            template = rng.choice(_TEMPLATES[:6] if shown else _TEMPLATES)
            rows.append({
                "id": f"{shot.app}_{len(rows)}", "img_filename": f"{shot.app}/{shot.path.name}",
                "bbox": [round(v) for v in box.to_list()],
                "instruction": template.format(name=name, lower=name[0].lower() + name[1:]),
                "application": shot.app, "platform": "web" if toolkits[shot.app] == "web" else "linux",
                "img_size": list(image.size), "ui_type": "text" if shown else "icon", "group": "heldout",
                "role": element["role"], "name": name,
            })
    for app, rows in records.items():
        (folder / "annotations" / f"{app}.json").write_text(json.dumps(rows, indent=1))
    icons = sum(r["ui_type"] == "icon" for rows in records.values() for r in rows)
    print(f"held-out screens: {sum(map(len, records.values()))} targets ({icons} icons) in {len(held)} shots")
