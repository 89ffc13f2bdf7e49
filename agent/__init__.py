"""screenground's desktop layer: capture the screen, ground an instruction, act on it.

    from agent import Desktop, TargetNotFound
    Desktop().click("Apply")

Besides `Desktop`, the errors a script must be ready to catch: `TargetNotFound` (the grounder did not find it),
`OffScreenError` (the point lies outside every monitor, so acting was refused), `ActionError` (the action failed or
the fail-safe stopped it), `DisplayError` (no display to capture or act on). All are `grounding.GroundingError`s.
"""

from importlib import import_module
from typing import Any

# Name -> module that defines it, imported on first use so `import agent` (and the `ground` CLI) never touches a
# display or pyautogui.
_EXPORTS = {
    "Desktop": ".desktop",
    "TargetNotFound": ".desktop",
    "ActionError": ".executor",
    "DisplayError": ".screen",
    "OffScreenError": ".screen",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
