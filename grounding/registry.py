"""Grounders by name: `register` them, `get(name)` their entry, `available()` lists them (`grounding.load` builds one).

Built-in backends register themselves when their module is imported; those modules import nothing heavy at the top,
so listing names stays fast. Third-party packages add grounders through the `screenground.grounders` entry point
group (each entry point names a module that calls `register`).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import UnknownModelError
from .types import Grounder

# Modules whose import registers the built-in grounders.
_BUILTIN_MODULES = (
    "grounding.ocr",
    "grounding.icons",
    "grounding.vlm",
    "grounding.remote",
)

Factory = Callable[..., Grounder]

# What `ground` and `Desktop` use when no model is named: measured best on the dev set with no download and no GPU
# (OCR text with the zoom loop, then the shipped icon model; README, "Offline icon grounding").
DEFAULT_MODEL = "offline"


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Factory
    description: str
    # Whether `grounding.load(name)` refines with the zoom loop when the caller does not say (chosen by measurement).
    default_zoom: bool = False
    # Options fixed by a preset (a model id, a family's prompt...), merged under the caller's options.
    preset: tuple[tuple[str, Any], ...] = ()


_REGISTRY: dict[str, Entry] = {}
_discovered = False


def register(
    name: str, *, description: str, default_zoom: bool = False, **preset: Any
) -> Callable[[Factory], Factory]:
    """Decorator for a grounder class or factory: `@register("ocr", description=...)`.

    Extra keyword arguments make a preset: `register("gta1-7b", description=..., model="Salesforce/GTA1-7B")(Qwen25)`
    registers the same backend with those options filled in.
    """

    def decorator(factory: Factory) -> Factory:
        if name in _REGISTRY and _REGISTRY[name].factory is not factory:
            raise ValueError(f"grounder {name!r} is already registered")
        _REGISTRY[name] = Entry(name, factory, description, default_zoom, tuple(sorted(preset.items())))
        return factory

    return decorator


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="screenground.grounders"):
        entry_point.load()


def available() -> list[Entry]:
    _discover()
    return sorted(_REGISTRY.values(), key=lambda entry: entry.name)


def get(name: str) -> Entry:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}{hint} (`ground models` lists them: {', '.join(sorted(_REGISTRY))})"
        ) from None
