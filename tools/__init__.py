"""Tools over screenshots that the zoom loop uses and that a model may call: crop, zoom."""

from .image import View, crop, crop_box, zoom

__all__ = ["View", "crop", "crop_box", "zoom"]
