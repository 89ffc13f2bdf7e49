"""The settings of the crop-and-zoom loop, and how `load(..., zoom=...)` values become them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import OptionError


@dataclass(frozen=True)
class ZoomConfig:
    """How the refining wrapper looks again. Defaults are the measured best trade-off on the dev set (README)."""

    steps: int = 2  # narrowing looks after the first hit
    crop: float = 0.5  # each narrowing crop's side, as a fraction of the previous view's side
    min_crop: int = 768  # floor on a crop's longer side, in original pixels, so the grounder keeps some context
    upscale: float = 2.0  # the most a crop is magnified over the original pixels
    converge: float = 0.05  # converged when the answer moves less than this fraction of the crop's longer side
    tolerance: float = 0.1  # a zoomed answer replaces the last unless its score is lower by more than this
    confident: float = 0.0  # a first hit scoring at least this is final, not narrowed (0: always narrow)
    search: bool = True  # tile the screen (coarse to fine) when the first look finds nothing
    search_depth: int = 1  # levels of the tiling cascade (level k splits every tile of level k-1 in 2x2)
    keep: int = 2  # best-scored tile hits that get refined
    candidates: int = 1  # parallel attempts (1: one chain); >1 adds magnified tiles of the screen as attempts
    workers: int = 0  # threads for attempts and tiles (0: one per attempt, at most 8)

    def __post_init__(self) -> None:
        _check(self.steps >= 0, "steps must be >= 0")
        _check(0.05 <= self.crop <= 1.0, "crop must lie in [0.05, 1]")
        _check(self.min_crop >= 16, "min_crop must be >= 16 pixels")
        _check(math.isfinite(self.upscale) and 1.0 <= self.upscale <= 8.0, "upscale must lie in [1, 8]")
        _check(0.0 <= self.converge <= 1.0, "converge must lie in [0, 1]")
        _check(0.0 <= self.tolerance <= 1.0, "tolerance must lie in [0, 1]")
        _check(0.0 <= self.confident <= 1.0, "confident must lie in [0, 1]")
        _check(1 <= self.search_depth <= 3, "search_depth must lie in [1, 3]")
        _check(self.keep >= 1, "keep must be >= 1")
        _check(1 <= self.candidates <= 32, "candidates must lie in [1, 32]")
        _check(self.workers >= 0, "workers must be >= 0")

    @property
    def threads(self) -> int:
        return self.workers or min(8, max(self.candidates, 4 if self.search else 1))

    def short(self) -> str:
        """The settings that differ from the defaults, for names and journals: 'steps=3,candidates=4'."""
        default = ZoomConfig()
        return ",".join(
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise OptionError(f"zoom: {message}")


def to_config(setting: Any, defaults: Mapping[str, Any] | None = None) -> ZoomConfig:
    """`True` (defaults), a mapping of settings, or a ZoomConfig; anything else is an OptionError.

    `defaults` are a grounder's own preferred settings (its `zoom_defaults`); the caller's settings win over them.
    """
    if isinstance(setting, ZoomConfig):
        return setting
    if setting is True:
        setting = {}
    if isinstance(setting, Mapping):
        setting = {**(defaults or {}), **setting}
        names = {f.name: f for f in fields(ZoomConfig)}
        unknown = sorted(set(setting) - set(names))
        if unknown:
            raise OptionError(f"zoom: unknown setting(s) {', '.join(unknown)} (known: {', '.join(names)})")
        values = {key: _coerce(names[key], value) for key, value in setting.items() if value is not None}
        return ZoomConfig(**values)
    raise OptionError(f"zoom: expected True, a mapping of settings or a ZoomConfig, got {setting!r}")


def _coerce(field: dataclasses.Field, value: Any) -> Any:
    kind = {"int": int, "float": float, "bool": bool}[str(field.type)]
    if kind is bool and not isinstance(value, bool):
        raise OptionError(f"zoom: {field.name} must be true or false, got {value!r}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise OptionError(f"zoom: {field.name} must be a whole number, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise OptionError(f"zoom: {field.name} must be a number, got {value!r}") from None
