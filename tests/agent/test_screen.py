"""Image pixel -> screen point: HiDPI scales, negative monitor offsets, multi-monitor layouts, crops and resizes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from agent.capture import Screenshot, load_screenshot
from agent.screen import Monitor, OffScreenError, ScreenMap, check_on_screen, monitor_at, union
from grounding.errors import GroundingError, ImageError
from grounding.geometry import Box, Point


def single(width, height, left=0, top=0):
    return (Monitor(1, left, top, width, height),)


@pytest.mark.parametrize(
    "logical, scale",
    [((1920, 1080), 1.0), ((1536, 864), 1.25), ((1280, 720), 1.5), ((1440, 900), 2.0)],
)
def test_hidpi_capture_maps_pixels_to_logical_points(logical, scale):
    w, h = logical
    image_size = (round(w * scale), round(h * scale))
    screen = ScreenMap.of_region(Box(0, 0, w, h), image_size, single(w, h))
    assert screen.scale == pytest.approx(scale)
    assert screen.point(Point(0, 0)) == Point(0, 0)
    assert screen.point(Point(*image_size)) == Point(w, h)
    # A button centred at image pixel (300, 150) is at (300/scale, 150/scale) in the points pyautogui uses.
    button = screen.point(Point(300, 150))
    assert (button.x, button.y) == (pytest.approx(300 / scale), pytest.approx(150 / scale))
    # The last image pixel lands on the last screen point, which is still on the monitor.
    last = screen.point(Point(image_size[0] - 0.5, image_size[1] - 0.5))
    assert last.rounded() == (w - 1, h - 1)
    assert check_on_screen(last, screen.monitors).index == 1


def test_negative_monitor_offset():
    # A secondary monitor left of and above the primary, as seen in the wild (-484).
    primary = Monitor(1, 0, 0, 2560, 1440)
    left = Monitor(2, -1920, -484, 1920, 1080)
    layout = (primary, left)
    screen = ScreenMap.of_region(left.box, (1920, 1080), layout)
    p = screen.point(Point(10, 20))
    assert p == Point(-1910, -464)
    assert monitor_at(p, layout) is left
    assert screen.image_point(p) == Point(10, 20)
    # The same monitor at 150%: 2880x1620 pixels for 1920x1080 points.
    hidpi = ScreenMap.of_region(left.box, (2880, 1620), layout)
    assert hidpi.point(Point(2880, 1620)) == Point(0, 596)
    assert hidpi.point(Point(1500, 900)) == Point(-920, 116)


def test_all_monitors_capture_and_the_gaps_between_them():
    primary = Monitor(1, 0, 0, 2560, 1440)
    left = Monitor(2, -1920, -484, 1920, 1080)
    layout = (primary, left)
    whole = union(layout)
    assert (whole.left, whole.top, whole.width, whole.height) == (-1920, -484, 4480, 1924)
    screen = ScreenMap.of_region(whole.box, (4480, 1924), layout)
    assert monitor_at(screen.point(Point(5, 5)), layout) is left
    assert monitor_at(screen.point(Point(1920 + 100, 484 + 100)), layout) is primary
    # Below the left monitor the union box has pixels but no monitor: acting there is refused.
    gap = screen.point(Point(100, 1900))
    assert gap == Point(-1820, 1416)
    with pytest.raises(OffScreenError, match=r"\(-1820, 1416\) lies outside every monitor"):
        check_on_screen(gap, layout)


def test_monitor_edges_belong_to_one_monitor():
    a, b = Monitor(1, 0, 0, 1920, 1080), Monitor(2, 1920, 0, 1280, 1024)
    assert monitor_at(Point(1919.9, 500), (a, b)) is a
    assert monitor_at(Point(1920, 500), (a, b)) is b
    assert monitor_at(Point(3200, 500), (a, b)) is None
    assert monitor_at(Point(2000, 1024), (a, b)) is None
    assert monitor_at(Point(-0.1, 0), (a, b)) is None
    with pytest.raises(GroundingError):
        check_on_screen(Point(0, 0), ())


def test_crop_then_resize_maps_back_through_the_chain():
    monitor = Monitor(2, -1920, 0, 1920, 1080)
    screen = ScreenMap.of_region(monitor.box, (3840, 2160), (monitor,))  # scale 2, negative offset
    cropped = screen.crop(Box(200, 100, 600, 400))
    assert cropped.image_size == (400, 300)
    assert cropped.point(Point(0, 0)) == Point(-1920 + 100, 50)
    assert cropped.region == Box(-1820, 50, -1620, 200)
    small = cropped.resized((200, 150))  # a model that wanted half the pixels
    assert small.point(Point(100, 75)) == cropped.point(Point(200, 150)) == screen.point(Point(400, 250))
    assert small.image_point(Point(-1720, 125)) == Point(100, 75)


def gradient(size):
    """An image whose pixel (x, y) has colour (x % 256, y % 256, (x // 256) * 16 + y // 256): positions are readable."""
    w, h = size
    image = Image.new("RGB", size)
    image.putdata([(x % 256, y % 256, (x // 256) * 16 + y // 256) for y in range(h) for x in range(w)])
    return image


def test_screenshot_crop_keeps_pixels_and_mapping_in_step():
    monitor = Monitor(1, -300, 40, 400, 300)
    image = gradient((600, 450))  # scale 1.5
    shot = Screenshot(image, ScreenMap.of_region(monitor.box, image.size, (monitor,)), "test")
    part = shot.crop(Box(100.4, 50, 350, 200.6))  # fractional edges widen to whole pixels
    assert part.image.size == (250, 151)
    for x, y in [(0, 0), (17, 33), (249, 150)]:
        assert part.image.getpixel((x, y)) == image.getpixel((100 + x, 50 + y))
        assert part.to_screen(Point(x, y)) == shot.to_screen(Point(100 + x, 50 + y))
    assert part.screen.monitors == (monitor,)
    assert part.hash != shot.hash


@given(
    left=st.integers(-5000, 5000),
    top=st.integers(-3000, 3000),
    width=st.integers(200, 8000),
    height=st.integers(200, 5000),
    scale=st.sampled_from([1.0, 1.25, 1.5, 1.75, 2.0, 3.0]),
    fx=st.floats(0, 1),
    fy=st.floats(0, 1),
)
def test_round_trip_and_bounds_for_any_layout(left, top, width, height, scale, fx, fy):
    monitor = Monitor(1, left, top, width, height)
    image_size = (round(width * scale), round(height * scale))
    screen = ScreenMap.of_region(monitor.box, image_size, (monitor,))
    pixel = Point(fx * (image_size[0] - 1) + 0.5, fy * (image_size[1] - 1) + 0.5)
    point = screen.point(pixel)
    back = screen.image_point(point)
    assert back.x == pytest.approx(pixel.x, abs=1e-6) and back.y == pytest.approx(pixel.y, abs=1e-6)
    assert monitor.contains(point)  # every pixel of a monitor capture is a point on that monitor


def test_saved_screenshot_is_its_own_screen(tmp_path):
    path = tmp_path / "shot.png"
    gradient((320, 200)).save(path)
    shot = load_screenshot(path)
    assert shot.source == str(path)
    assert shot.screen.monitors == (Monitor(1, 0, 0, 320, 200),)
    assert shot.to_screen(Point(12.5, 7.5)) == Point(12.5, 7.5)
    with pytest.raises(OffScreenError):
        check_on_screen(Point(320, 10), shot.screen.monitors)
    with pytest.raises(ImageError):
        load_screenshot(tmp_path / "missing.png")
