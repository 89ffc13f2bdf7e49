"""The offline default grounder: on-screen text found with RapidOCR and matched to the instruction's words.

Importing this package registers `ocr` and imports nothing heavy; the OCR models load on the first `locate`.
"""

from grounding.registry import register

from .grounder import OcrGrounder

register(
    "ocr",
    description="offline CPU text grounding: RapidOCR words fuzzy-matched to the instruction (no icons)",
)(OcrGrounder)

__all__ = ["OcrGrounder"]
