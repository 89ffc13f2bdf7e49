"""grounding.geometry: the maths every coordinate change goes through, checked exhaustively."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grounding.geometry import Box, Point, Transform, cover

coord = st.floats(min_value=-1e5, max_value=1e5, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
points = st.builds(Point, coord, coord)
transforms = st.builds(Transform, positive, positive, coord, coord)


@st.composite
def boxes(draw, low: float = -1e4, high: float = 1e4):
    xs = sorted(draw(st.lists(st.floats(low, high), min_size=2, max_size=2)))
    ys = sorted(draw(st.lists(st.floats(low, high), min_size=2, max_size=2)))
    return Box(xs[0], ys[0], xs[1], ys[1])


def close(a: Point, b: Point, scale: float = 1.0) -> bool:
    tolerance = 1e-6 * max(1.0, scale, abs(a.x), abs(a.y), abs(b.x), abs(b.y))
    return abs(a.x - b.x) <= tolerance and abs(a.y - b.y) <= tolerance


# -- Point ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_point_and_box_refuse_non_finite_coordinates(bad):
    with pytest.raises(ValueError):
        Point(bad, 0)
    with pytest.raises(ValueError):
        Box(0, 0, bad, 1)


def test_point_rounding_is_the_pixel_it_falls_in():
    assert Point(3.999, 0.0).rounded() == (3, 0)
    assert Point(-0.5, 2.5).rounded() == (-1, 2)  # floor, not round-half-even
    assert Point.of((1, 2)) == Point(1.0, 2.0) and Point.of(Point(1, 2)) == Point(1, 2)
    assert list(Point(1, 2)) == [1, 2] and Point(1.234, 5.678).to_list() == [1.23, 5.68]


@given(points, points)
def test_distance_is_symmetric_and_matches_hypot(a, b):
    assert a.distance(b) == b.distance(a) == pytest.approx(math.hypot(a.x - b.x, a.y - b.y))


# -- Box ------------------------------------------------------------------------------------------------------------


def test_box_rejects_reversed_corners_but_from_corners_sorts_them():
    with pytest.raises(ValueError, match="reversed"):
        Box(10, 0, 5, 5)
    assert Box.from_corners(10, 8, 2, 3) == Box(2, 3, 10, 8)
    assert Box.from_xywh(1, 2, 3, 4) == Box(1, 2, 4, 6)
    assert Box.around(Point(10, 10), 4, 2) == Box(8, 9, 12, 11)
    assert Box.of([1, 2, 3, 4]) == Box(1, 2, 3, 4)


def test_contains_is_inclusive_on_every_edge_and_corner():
    box = Box(10, 20, 30, 40)
    for x, y in [(10, 20), (30, 40), (10, 40), (30, 20), (10, 30), (30, 30), (20, 20), (20, 40)]:
        assert box.contains(Point(x, y))
    for x, y in [(9.999, 30), (30.001, 30), (20, 19.999), (20, 40.001)]:
        assert not box.contains(Point(x, y))
    assert Box(5, 5, 5, 5).contains(Point(5, 5))  # a degenerate box still holds its one point


@given(boxes(), boxes())
def test_intersection_is_inside_both_and_iou_is_symmetric_in_unit_range(a, b):
    inter = a.intersection(b)
    if inter is not None:
        assert a.contains(Point(inter.x1, inter.y1)) and b.contains(Point(inter.x2, inter.y2))
    assert a.iou(b) == pytest.approx(b.iou(a))
    assert 0.0 <= a.iou(b) <= 1.0 + 1e-9


def test_iou_of_known_boxes():
    assert Box(0, 0, 10, 10).iou(Box(0, 0, 10, 10)) == 1.0
    assert Box(0, 0, 10, 10).iou(Box(5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert Box(0, 0, 10, 10).iou(Box(10, 0, 20, 10)) == 0.0  # touching edges share no area
    assert Box(0, 0, 10, 10).intersection(Box(10, 10, 20, 20)) == Box(10, 10, 10, 10)
    assert Box(0, 0, 10, 10).intersection(Box(11, 0, 20, 10)) is None


@given(boxes(), st.integers(1, 5000), st.integers(1, 5000))
def test_clip_always_lands_inside_the_image(box, width, height):
    clipped = box.clip(width, height)
    assert 0 <= clipped.x1 <= clipped.x2 <= width and 0 <= clipped.y1 <= clipped.y2 <= height
    inside = box.intersection(Box(0, 0, width, height))
    if inside is not None:
        assert clipped == inside  # clipping a box that overlaps the image is the overlap


def test_clip_collapses_a_box_outside_onto_the_nearest_edge():
    assert Box(-50, -50, -10, -10).clip(100, 80) == Box(0, 0, 0, 0)
    assert Box(150, 10, 200, 20).clip(100, 80) == Box(100, 10, 100, 20)


@given(boxes(), points)
def test_clamp_point_lands_in_the_box_and_keeps_points_inside(box, point):
    clamped = box.clamp_point(point)
    assert box.contains(clamped)
    if box.contains(point):
        assert clamped == point


@given(boxes())
def test_to_ints_covers_the_box(box):
    x1, y1, x2, y2 = box.to_ints()
    assert all(isinstance(v, int) for v in (x1, y1, x2, y2))
    assert x1 <= box.x1 < x1 + 1 and x2 - 1 < box.x2 <= x2 and y1 <= box.y1 and box.y2 <= y2


def test_union_expand_and_measures():
    assert Box.union_of([Box(0, 0, 1, 1), Box(5, -2, 6, 3)]) == Box(0, -2, 6, 3)
    with pytest.raises(ValueError):
        Box.union_of([])
    box = Box(0, 0, 4, 2).expand(1, 2)
    assert box == Box(-1, -2, 5, 4) and (box.width, box.height, box.area) == (6, 6, 36)
    assert Box(0, 0, 4, 2).expand(1) == Box(-1, -1, 5, 3) and Box(0, 0, 4, 2).center == Point(2, 1)


# -- Transform ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(0, 1, 0, 0), (1, -1, 0, 0), (1, 1, math.nan, 0), (math.inf, 1, 0, 0)])
def test_transform_rejects_degenerate_scales_and_non_finite_values(args):
    with pytest.raises(ValueError):
        Transform(*args)


@given(transforms, points)
def test_inverse_round_trips_points(transform, point):
    back = transform.inverse().apply(transform.apply(point))
    # Float error grows with the magnitudes involved, relative to the scale of each axis.
    tolerance_x = 1e-12 + 1e-9 * (abs(point.x) + abs(transform.offset_x) / transform.scale_x)
    tolerance_y = 1e-12 + 1e-9 * (abs(point.y) + abs(transform.offset_y) / transform.scale_y)
    assert abs(back.x - point.x) <= tolerance_x and abs(back.y - point.y) <= tolerance_y
    assert tuple(transform.inverse().inverse().apply(point)) == pytest.approx(
        tuple(transform.apply(point)), rel=1e-9, abs=1e-6
    )


@given(transforms, transforms, points)
def test_then_is_applying_one_after_the_other(first, second, point):
    composed = first.then(second).apply(point)
    stepwise = second.apply(first.apply(point))
    size = max(abs(stepwise.x), abs(stepwise.y), abs(second.offset_x), abs(second.offset_y), 1.0)
    assert close(composed, stepwise, size * max(second.scale_x, second.scale_y, 1.0))


@given(transforms, transforms)
def test_inverse_of_a_composition_is_the_reversed_composition_of_inverses(a, b):
    left, right = a.then(b).inverse(), b.inverse().then(a.inverse())
    assert left.scale_x == pytest.approx(right.scale_x) and left.scale_y == pytest.approx(right.scale_y)
    assert left.offset_x == pytest.approx(right.offset_x, rel=1e-6, abs=1e-3)
    assert left.offset_y == pytest.approx(right.offset_y, rel=1e-6, abs=1e-3)


@given(transforms)
def test_identity_is_neutral(transform):
    assert Transform.identity().then(transform) == transform
    assert transform.then(Transform.identity()) == transform


def test_crop_then_resize_chain_maps_known_pixels():
    # A crop at (100, 50) shown at 2x: crop pixel (20, 10) is parent (110, 55).
    to_parent = Transform.scaling(0.5).then(Transform.translate(100, 50))
    assert to_parent.apply(Point(20, 10)) == Point(110, 55)
    assert to_parent.inverse().apply(Point(110, 55)) == Point(20, 10)
    assert to_parent.apply_box(Box(0, 0, 40, 20)) == Box(100, 50, 120, 60)


def test_between_sizes_and_box_to_box():
    resize = Transform.between_sizes((1920, 1080), (960, 540))
    assert resize.apply(Point(1920, 1080)) == Point(960, 540)
    with pytest.raises(ValueError):
        Transform.between_sizes((0, 10), (10, 10))
    mapping = Transform.box_to_box(Box(10, 10, 20, 30), Box(0, 0, 100, 100))
    assert mapping.apply(Point(10, 10)) == Point(0, 0) and mapping.apply(Point(20, 30)) == Point(100, 100)
    assert mapping.apply(Point(15, 20)) == Point(50, 50)
    with pytest.raises(ValueError):
        Transform.box_to_box(Box(0, 0, 0, 10), Box(0, 0, 10, 10))


@given(boxes(), boxes())
def test_box_to_box_maps_corners_onto_corners(src, dst):
    assume(src.width > 1e-2 and src.height > 1e-2 and dst.width > 1e-2 and dst.height > 1e-2)
    mapped = Transform.box_to_box(src, dst).apply_box(src)
    for got, want in zip(mapped, dst):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-5)


# -- cover: the tiles a big image is detected in ----------------------------------------------------------------------


@given(
    st.integers(1, 12000), st.integers(1, 12000), st.integers(200, 3000), st.integers(0, 150),
    st.sampled_from([1, 8, 32]),
)
def test_cover_tiles_cover_every_pixel_overlap_and_stay_within_the_side(width, height, side, overlap, multiple):
    assume(side > overlap and side >= multiple)
    tiles = cover((width, height), side, overlap, multiple)
    assert len({(tile.width, tile.height) for tile in tiles}) == 1  # all alike
    xs = sorted({(tile.x1, tile.x2) for tile in tiles})
    ys = sorted({(tile.y1, tile.y2) for tile in tiles})
    assert len(tiles) == len(xs) * len(ys)
    for spans, length in ((xs, width), (ys, height)):
        assert spans[0][0] == 0 and spans[-1][1] == length
        for start, end in spans:
            assert 0 <= start < end <= length and end - start <= side
            if len(spans) > 1:  # the sides of a split image are multiples, unless that would pass `side`
                assert (end - start) % multiple == 0 or end - start == side
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end - start >= overlap  # neighbours share at least `overlap` pixels, so no gap either
    if width <= side and height <= side:
        assert tiles == [Box(0, 0, width, height)]


def test_cover_a_4k_screen_in_the_ocr_detectors_tiles():
    tiles = cover((3840, 2160), 1984, 96, 32)
    assert [tile.to_list() for tile in tiles] == [
        [0, 0, 1984, 1152], [1856, 0, 3840, 1152], [0, 1008, 1984, 2160], [1856, 1008, 3840, 2160],
    ]
    with pytest.raises(ValueError):
        cover((3840, 2160), 96, 96)
