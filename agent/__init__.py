"""screenground's desktop layer: capture the screen, ground an instruction, act on it."""

from typing import Any

__all__ = ["Desktop"]


def __getattr__(name: str) -> Any:
    # Imported on first use so `import agent` (and the `ground` CLI) never touches a display or pyautogui.
    if name == "Desktop":
        from .desktop import Desktop

        return Desktop
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
