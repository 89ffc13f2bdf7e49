"""tools.image: crops clipped at borders and never empty, aspect kept, and exact round trips to the parent's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from grounding.geometry import Box, Point
from tools.image import crop, crop_box, window, zoom

# These build images: how long that takes on a busy machine is not the property under test.
no_deadline = settings(deadline=None)
sizes = st.tuples(st.integers(1, 300), st.integers(1, 300))
coord = st.floats(-400, 700, allow_nan=False)


@st.composite
def boxes(draw):
    x1, x2 = sorted(draw(st.lists(coord, min_size=2, max_size=2)))
    y1, y2 = sorted(draw(st.lists(coord, min_size=2, max_size=2)))
    return Box(x1, y1, x2, y2)


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Every pixel different enough that a wrong source pixel shows."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8), "RGB")


# -- crop_box and crop -------------------------------------------------------------------------------------------------


@no_deadline
@given(sizes, boxes(), st.integers(1, 400))
def test_crop_box_is_integer_inside_and_never_empty(size, box, min_size):
    taken = crop_box(size, box, min_size)
    width, height = size
    assert all(float(v).is_integer() for v in taken)
    assert 0 <= taken.x1 < taken.x2 <= width and 0 <= taken.y1 < taken.y2 <= height
    assert taken.width >= min(min_size, width) and taken.height >= min(min_size, height)


@no_deadline
@given(sizes, boxes())
def test_crop_box_covers_the_part_of_the_box_inside_the_image(size, box):
    inside = box.intersection(Box(0, 0, *size))
    taken = crop_box(size, box)
    if inside is not None and inside.width >= 1 and inside.height >= 1:
        assert taken.contains(Point(inside.x1, inside.y1)) and taken.contains(Point(inside.x2, inside.y2))
        assert taken.width < inside.width + 2 and taken.height < inside.height + 2  # only rounding out to pixels


def test_crop_box_of_a_box_outside_the_image_is_the_nearest_pixels():
    assert crop_box((100, 50), Box(-30, -30, -10, -10)) == Box(0, 0, 1, 1)
    assert crop_box((100, 50), Box(120, 10, 150, 20)) == Box(99, 10, 100, 20)
    assert crop_box((100, 50), Box(40, 20, 40, 20), min_size=10) == Box(35, 15, 45, 25)
    assert crop_box((100, 50), Box(0, 0, 1, 1), min_size=80) == Box(0, 0, 80, 50)  # grown inside, capped at the side
    with pytest.raises(ValueError):
        crop_box((0, 10), Box(0, 0, 1, 1))


@settings(max_examples=60, deadline=None)
@given(sizes, boxes(), st.integers(1, 64))
def test_crop_pixels_are_the_parent_pixels_its_transform_names(size, box, min_size):
    image = noise(size)
    view = crop(image, box, min_size)
    parent, child = np.asarray(image), np.asarray(view.image)
    assert view.image.size == (int(view.box.width), int(view.box.height))
    origin = view.to_parent.apply(Point(0, 0))
    assert (origin.x, origin.y) == (view.box.x1, view.box.y1) and view.scale == 1.0
    x1, y1 = int(origin.x), int(origin.y)
    assert np.array_equal(child, parent[y1 : y1 + child.shape[0], x1 : x1 + child.shape[1]])


# -- zoom --------------------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(sizes, boxes(), st.floats(0.2, 5.0))
def test_every_zoomed_pixel_comes_from_the_parent_pixel_its_centre_maps_to(size, box, scale):
    """With nearest-neighbour resampling the round trip is exact: the transform names each pixel's source.

    (A centre that maps exactly onto the edge between two parent pixels may take either; PIL's float rounding decides.)
    """
    image = noise(size, seed=1)
    view = zoom(image, box, scale=scale, resample=Image.Resampling.NEAREST)
    parent, child = np.asarray(image), np.asarray(view.image)
    height, width = child.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    mapped_x = (xs + 0.5) * view.to_parent.scale_x + view.to_parent.offset_x
    mapped_y = (ys + 0.5) * view.to_parent.scale_y + view.to_parent.offset_y
    matches = np.zeros((height, width), dtype=bool)
    for dx in (-1e-6, 1e-6):
        for dy in (-1e-6, 1e-6):
            sx, sy = np.floor(mapped_x + dx).astype(int), np.floor(mapped_y + dy).astype(int)
            assert view.box.x1 <= sx.min() and sx.max() < view.box.x2
            assert view.box.y1 <= sy.min() and sy.max() < view.box.y2
            matches |= (child == parent[sy, sx]).all(axis=-1)
    assert matches.all()


@no_deadline
@given(sizes, boxes(), st.floats(0.05, 8.0))
def test_zoom_corners_map_back_onto_the_crop_box(size, box, scale):
    view = zoom(noise((1, 1)).resize(size), box, scale=scale)
    w, h = view.image.size
    top_left, bottom_right = view.to_parent.apply(Point(0, 0)), view.to_parent.apply(Point(w, h))
    assert top_left.x == pytest.approx(view.box.x1) and top_left.y == pytest.approx(view.box.y1)
    assert bottom_right.x == pytest.approx(view.box.x2) and bottom_right.y == pytest.approx(view.box.y2)
    assert (w, h) == (max(1, round(view.box.width * scale)), max(1, round(view.box.height * scale)))
    assert tuple(view.to_parent.inverse().apply(view.to_parent.apply(Point(w / 3, h / 2)))) == pytest.approx(
        (w / 3, h / 2)
    )


@no_deadline
@given(sizes, st.tuples(st.integers(1, 2000), st.integers(1, 2000)))
def test_target_size_fits_inside_keeps_the_aspect_and_fills_one_side(size, target):
    view = zoom(noise((1, 1)).resize(size), target_size=target)
    w, h = view.image.size
    tw, th = target
    assert w <= tw and h <= th and (w == tw or h == th)
    # Aspect kept up to the rounding of one side to whole pixels.
    assert abs(w * size[1] - h * size[0]) <= max(size) + max(w, h)


def test_a_wide_screen_is_never_stretched_to_a_square_target():
    view = zoom(noise((64, 18)), target_size=(1000, 1000))
    assert view.image.size == (1000, 281)
    assert view.to_parent.apply(Point(1000, 281)) == Point(64, 18)


def test_lanczos_zoom_puts_a_pixel_where_the_transform_says():
    image = Image.new("L", (40, 30), 0)
    image.putpixel((13, 21), 255)
    view = zoom(image.convert("RGB"), Box(5, 10, 30, 30), scale=3.0)
    luma = np.asarray(view.image.convert("L"), dtype=float)
    ys, xs = np.nonzero(luma > 128)
    centre = view.to_parent.apply(Point(xs.mean() + 0.5, ys.mean() + 0.5))
    assert centre.distance(Point(13.5, 21.5)) < 0.2


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"scale": 2.0, "target_size": (10, 10)}, {"scale": 0.0}, {"scale": float("nan")}, {"target_size": (0, 5)}],
)
def test_zoom_rejects_unclear_or_invalid_sizes(kwargs):
    with pytest.raises(ValueError):
        zoom(noise((20, 20)), **kwargs)


# -- window ------------------------------------------------------------------------------------------------------------


@given(sizes, st.floats(-500, 800), st.floats(-500, 800), st.floats(1, 500), st.floats(1, 500))
def test_window_stays_inside_keeps_its_size_and_centres_when_it_can(size, cx, cy, width, height):
    box = window(size, Point(cx, cy), width, height)
    assert 0 <= box.x1 and 0 <= box.y1 and box.x2 <= size[0] + 1e-9 and box.y2 <= size[1] + 1e-9
    assert box.width == pytest.approx(min(width, size[0])) and box.height == pytest.approx(min(height, size[1]))
    if width / 2 <= cx <= size[0] - width / 2:
        assert box.center.x == pytest.approx(cx)
    if 0 <= cx <= size[0] and 0 <= cy <= size[1]:
        assert box.expand(1e-6).contains(Point(cx, cy))


def test_window_near_a_corner_shifts_instead_of_shrinking():
    assert window((1920, 1080), Point(1900, 10), 400, 200) == Box(1520, 0, 1920, 200)
    with pytest.raises(ValueError):
        window((1920, 1080), Point(0, 0), 0, 10)
