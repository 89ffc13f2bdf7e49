"""Offline icon grounding on the CPU: a small image encoder trained here on open icon libraries, shipped with the
package.

Importing this package registers `icons` (icon search alone) and `offline` (OCR text first, icons otherwise) and
imports nothing heavy; the ONNX model loads on the first `locate`.
"""

from grounding.registry import register

from .grounder import IconGrounder
from .offline import OfflineGrounder

register(
    "icons",
    description="offline CPU icon grounding: icon-like regions matched to the instruction by a small shipped encoder",
)(IconGrounder)
register(
    "offline",
    default_zoom=True,
    description="offline CPU grounding: OCR text when the instruction's words are visible, else the best icon match",
)(OfflineGrounder)

__all__ = ["IconGrounder", "OfflineGrounder"]
