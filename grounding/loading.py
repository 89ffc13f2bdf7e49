"""`load(name, **options)`: a registered grounder, built with its preset and the caller's options, refined by the zoom
loop as the caller (or the grounder's measured default) asks.

This sits above both the registry and the zoom strategy, so neither imports the other. A composite grounder (e.g.
`offline`: OCR text, then icons) knows which of its parts gain from looking closer: its factory takes a `refine`
parameter and gets a function that wraps a part in the zoom loop with the caller's setting (the identity when zoom
is off), instead of being wrapped whole.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .errors import OptionError
from .registry import DEFAULT_MODEL, Entry, get
from .types import Grounder

Refine = Callable[[Grounder], Grounder]


def load(name: str = DEFAULT_MODEL, *, zoom: Any = None, **options: Any) -> Grounder:
    """Build the grounder registered as `name`.

    `zoom` is None for the grounder's measured default, False for a single pass, True for the default refinement
    settings, or a mapping / `ZoomConfig` of settings for the crop-and-zoom loop. Other options go to the backend.
    """
    entry = get(name)
    merged = {**dict(entry.preset), **{k: v for k, v in options.items() if v is not None}}
    _check_options(entry, merged)
    setting = entry.default_zoom if zoom is None else zoom
    refine = refiner(setting)
    if _takes_refine(entry.factory):
        return entry.factory(**merged, refine=refine)
    return refine(entry.factory(**merged))


def refiner(setting: Any) -> Refine:
    """The function that applies a zoom setting to a grounder; settings are checked now, before any model loads."""
    if setting is False:
        return _unchanged
    # Imported here: `grounding` is imported by every layer below the zoom loop (tools.image uses its geometry), so
    # its package module must not pull the loop in.
    from .zoom import refine
    from .zoom.config import to_config

    to_config(setting)  # a bad setting fails here, once, even when a composite has no part to refine
    return lambda grounder: refine(grounder, setting)


def _unchanged(grounder: Grounder) -> Grounder:
    return grounder


def _takes_refine(factory: Callable[..., Grounder]) -> bool:
    try:
        return "refine" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def _check_options(entry: Entry, options: dict[str, Any]) -> None:
    try:
        parameters = inspect.signature(entry.factory).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = {n for n, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - {"refine"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "none"
        raise OptionError(f"model {entry.name!r} does not take option(s) {', '.join(unknown)} (it takes: {takes})")
