"""Pyramid levels for a plate size range, and merging overlapping windows."""

from __future__ import annotations

import numpy as np
import pytest

from anprd.detect.merge import group_windows
from anprd.detect.pyramid import MAX_PLATE, MIN_PLATE, MIN_PLATE_ASPECT, level_images, levels_for


def test_all_levels_without_a_range():
    levels = levels_for(640, 480)
    assert [lv.index for lv in levels] == list(range(len(levels)))
    assert levels[0].shape == (480, 640)
    # The last level still holds a plate as wide as the picture; one more would not.
    last = levels[-1]
    assert last.shape[1] >= MIN_PLATE
    smaller = last.scale * 2**-0.5
    assert round(640 * smaller) < MIN_PLATE or round(480 * smaller) < MIN_PLATE * MIN_PLATE_ASPECT
    # Levels smaller than a window are padded around the picture to hold one.
    assert last.canvas == (64, 128)
    assert last.image(np.zeros((480, 640), np.uint8)).shape == (64, 128)


def test_levels_cover_exactly_the_plate_range():
    levels = levels_for(1920, 1080, (150, 300))
    seen = [lv.plate_widths() for lv in levels]
    # Every plate width in the range is seen as present by some level, but for the gaps
    # of the seed's rule (one level sees widths in a ratio of 4/3, under the sqrt(2) step)...
    gap = (MIN_PLATE * 2**0.5) / MAX_PLATE
    for w in np.linspace(150, 300, 40):
        assert any(lo / gap <= w <= hi * gap for lo, hi in seen), w
    # ...and no level is wasted on plates far outside it.
    for lo, hi in seen:
        assert hi >= 150 / 2**0.25 and lo <= 300 * 2**0.25
    assert len(levels) < len(levels_for(1920, 1080))


def test_a_plate_filling_the_frame_is_found_on_a_padded_level():
    # A 1280 x 720 frame whose plate is 1,000 px wide: only a level under the window's
    # size sees it at a present width.
    widths = {lv: lv.plate_widths() for lv in levels_for(1280, 720)}
    seen = [lv for lv, (lo, hi) in widths.items() if lo <= 1000 <= hi]
    lv = seen[0] if seen else None
    assert lv is not None and lv.shape[1] < 128 and lv.canvas == (64, 128)
    # The one window of its dense map covers the whole frame, which sits centred in it.
    (x1, y1, x2, y2), = lv.windows(np.array([0]), np.array([0]))
    top, left = lv.pad
    assert left > 0 and x1 == -left / lv.scale and y1 == -top / lv.scale
    assert x1 < 0 < 1280 < x2 and y1 <= 0 < 720 <= y2
    assert abs((x1 + x2) / 2 - 640) <= 1 / lv.scale and abs((y1 + y2) / 2 - 360) <= 1 / lv.scale
    # Windows of a full-size level: 8 pixels apart, window-sized.
    full = levels_for(1280, 720)[0]
    assert full.windows(np.array([1]), np.array([2])).tolist() == [[16, 8, 16 + 128, 8 + 64]]


@pytest.mark.parametrize("size", [(150, 45), (212, 64), (300, 90), (640, 480), (1280, 720)])
def test_a_plate_filling_most_of_the_picture_is_present_on_some_level(size):
    # Small levels come half a step apart, so the presence rule's gaps between levels
    # (a ratio of 4/3 seen, under the sqrt(2) step) hold no plate wider than 20% of the
    # picture (nor narrower than the most enlarged level sees): a tight crop, a close-up,
    # a car's front.
    from anprd.detect.pyramid import MAX_UPSCALE, MIN_PLATE
    from anprd.reads import PICTURE_MAX_PIXELS

    levels = levels_for(*size, None, PICTURE_MAX_PIXELS)
    seen = [lv.plate_widths() for lv in levels]
    for w in np.linspace(max(0.2 * size[0], MIN_PLATE / MAX_UPSCALE + 0.01), size[0], 80):
        assert any(lo <= w <= hi for lo, hi in seen), (size, w)
    indices = [lv.index for lv in levels]
    assert indices == sorted(set(indices))
    # A camera's frames keep whole steps: a passing plate is seen at every size in turn.
    assert all(lv.index == int(lv.index) for lv in levels_for(*size))


def test_small_plates_enlarge_the_picture():
    levels = levels_for(640, 480, (50, 70))
    assert levels and levels[0].scale > 1
    assert any(lo <= 60 <= hi for lo, hi in (lv.plate_widths() for lv in levels))


def test_a_small_picture_is_enlarged_when_no_range_is_given():
    # A 260 x 195 thumbnail of a car whose plate is 48 px wide: under the window's smallest
    # present width at full size, seen once the picture is doubled.
    levels = levels_for(260, 195)
    assert abs(levels[0].scale - 2) < 1e-9 and levels[0].shape == (390, 520)
    assert any(lo <= 48 <= hi for lo, hi in (lv.plate_widths() for lv in levels))
    # Enlarged only as far as 640 px wide: from 452 px down; wider ones start at full size.
    assert levels_for(640, 480)[0].scale == 1.0
    assert levels_for(555, 381)[0].scale == 1.0
    assert abs(levels_for(452, 339)[0].scale - 2**0.5) < 1e-9


def test_a_picture_read_alone_is_enlarged_up_to_a_720p_frame_within_its_budget():
    from anprd.reads import PICTURE_MAX_PIXELS

    # A 555 x 381 web photo of a car whose plate is 66 px wide: it is seen on an enlarged level.
    levels = levels_for(555, 381, None, PICTURE_MAX_PIXELS)
    assert abs(levels[0].scale - 2) < 1e-9
    assert any(lo <= 66 <= hi for lo, hi in (lv.plate_widths() for lv in levels))
    assert abs(levels_for(800, 450, None, PICTURE_MAX_PIXELS)[0].scale - 2**0.5) < 1e-9
    assert levels_for(960, 540, None, PICTURE_MAX_PIXELS)[0].scale == 1.0
    # Never past the pixel budget: a portrait phone photo 900 px wide stays full size.
    assert levels_for(900, 1600, None, PICTURE_MAX_PIXELS)[0].scale == 1.0
    # One 640 x 1136 px wide would be doubled past the budget: it is enlarged sqrt(2).
    assert abs(levels_for(640, 1136, None, PICTURE_MAX_PIXELS)[0].scale - 2**0.5) < 1e-9


def _window(x, y, s=1.0, p=0.9, level=0):
    return [x, y, x + 128 / s, y + 64 / s, p, level]


def test_overlapping_windows_merge_into_one_box_around_the_plate():
    # A plate at x 200..290, y 100..130 seen by windows at several positions and 2 levels.
    rows = []
    for x in range(290 - 128, 200 + 1, 8):
        for y in range(130 - 64, 100 + 1, 8):
            rows.append(_window(x, y))
    rows.append(_window(170, 80, s=2**-0.5, p=0.7, level=1))
    # And a second plate far away.
    rows.append(_window(600, 400, p=0.95))
    cands = group_windows(np.array(rows, float))
    assert len(cands) == 2
    big = max(cands, key=lambda c: c.n_windows)
    x1, y1, x2, y2 = big.box
    # The box holds the plate, and is within two strides (16 px) of it on every side.
    assert 184 <= x1 <= 200 and 290 <= x2 <= 306
    assert 84 <= y1 <= 100 and 130 <= y2 <= 146
    assert big.presence == 0.9 and big.n_windows == len(rows) - 1


def test_windows_two_levels_off_join_the_group_but_do_not_shape_its_box():
    # A close-up plate at x 260..1060, y 230..480 seen at level 6 (scale 1/8), and the
    # lettering of its top band seen as a plate at level 4 (scale 1/4), twice as large.
    s6, s4 = 2 ** -3, 2 ** -2
    rows = [_window(x, y, s=s6, p=0.95, level=6) for x in (128, 192, 256) for y in (0, 64)]
    rows += [_window(x, 0, s=s4, p=0.7, level=4) for x in (320, 352, 384, 448)]
    cands = group_windows(np.array(rows, float))
    assert len(cands) == 1  # the band's windows make no candidate of their own
    c = cands[0]
    x1, y1, x2, y2 = c.box
    assert y1 <= 230 and y2 >= 480 and x1 <= 260 and x2 >= 1060  # the whole plate
    assert c.read_scale == pytest.approx(s6) and c.n_windows == 6


def test_windows_that_cannot_hold_the_same_plate_as_the_best_do_not_shape_its_box():
    # A plate at x 585..890, y 795..890 seen by windows of level 3 (scale 2^-1.5), the
    # best one at y 724, and windows of level 2 (scale 1/2) just above it, on a grille,
    # that overlap the best window by a strip too thin for any plate it sees (44 px
    # tall, where a plate 217 px wide or more is at least 54 px tall).
    s3, s2 = 2 ** -1.5, 0.5
    rows = [_window(566, 724, s=s3, p=0.99, level=3)]
    rows += [_window(x, y, s=s3, p=0.9, level=3) for x in (543, 566) for y in (747, 792)]
    rows += [_window(x, 640, s=s2, p=0.95, level=2) for x in (608, 624, 640, 656, 672)]
    cands = group_windows(np.array(rows, float))
    assert len(cands) == 1
    x1, y1, x2, y2 = cands[0].box
    assert y1 <= 795 and y2 >= 890 and x1 <= 600 and x2 >= 880  # the plate, not the strip


def test_no_windows_no_candidates():
    assert group_windows(np.zeros((0, 6))) == []


def test_a_window_of_a_far_level_stays_out_of_a_small_plates_group():
    # A frame-sized window at level 7 (scale 1/11) holds a small plate's windows at level 0:
    # it sees something else (a plate filling the frame), so it is a candidate of its own.
    rows = [_window(x, 100) for x in range(200, 240, 8)]
    rows.append(_window(0, 0, s=2**-3.5, p=0.99, level=7))
    cands = group_windows(np.array(rows, float))
    assert sorted(c.n_windows for c in cands) == [1, 5]
    big = next(c for c in cands if c.n_windows == 1)
    assert abs(big.read_scale - 2**-3.5) < 1e-6


def test_a_chain_of_windows_across_clutter_does_not_pull_the_plates_box_away():
    # A plate at x 500..760, y 790..870, seen by level-3 windows (scale 2^-1.5); beside
    # it a chain of weak level-1 windows over a grille, each overlapping the next and the
    # last touching the plate's windows. The plate's box and scale stay the plate's.
    s3, s1 = 2**-1.5, 2**-0.5
    rows = [_window(398 + 23 * i, 689 + 23 * j, s=s3, p=0.95 - 0.02 * (abs(i - 2) + abs(j - 2)),
                    level=3) for i in range(5) for j in range(5)]
    rows += [_window(60 + 40 * k, 420 + 30 * k, s=s1, p=0.6, level=1) for k in range(9)]
    cands = group_windows(np.array(rows, float))
    plate = cands[0]
    assert plate.presence == 0.95 and abs(plate.read_scale - s3) < 1e-6
    x1, y1, x2, y2 = plate.box
    assert x1 <= 500 and x2 >= 760 and y1 <= 790 and y2 >= 870
    assert x2 - x1 < 362 and y2 - y1 < 181


def test_a_lone_window_is_no_plate_unless_its_level_has_no_room_for_more():
    from anprd.detect.detector import MIN_WINDOWS, _seen_enough

    big = levels_for(1280, 720)[0]  # many window positions
    tiny = levels_for(120, 60)[-1]  # padded to one window: one position
    assert tiny.positions == 1
    lone = group_windows(np.array([_window(100, 100, level=big.index)], float))[0]
    assert not _seen_enough(lone, [big])
    plate = group_windows(np.array([_window(100 + 8 * k, 100, level=big.index)
                                    for k in range(MIN_WINDOWS)], float))[0]
    assert _seen_enough(plate, [big])
    only = group_windows(np.array([_window(0, 0, level=tiny.index)], float))[0]
    assert _seen_enough(only, [tiny])


def test_a_plate_on_a_level_with_too_few_positions_is_read_across_half_a_step():
    from anprd.detect.detector import read_scales

    big = levels_for(1280, 720)[0]
    tiny = levels_for(1280, 720)[-1]  # padded to one window: the frame-filling plates
    plate = group_windows(np.array([_window(100 + 8 * k, 100, level=big.index)
                                    for k in range(3)], float))[0]
    assert read_scales(plate, [big]) == [plate.read_scale]
    close = group_windows(np.array([_window(0, 0, level=tiny.index)], float))[0]
    scales = read_scales(close, [tiny])
    # Quarter pyramid steps (2 ** 0.125), up to half a step (2 ** 0.25) either way.
    assert np.allclose(np.log2(np.array(scales) / close.read_scale) * 8, [-2, -1, 0, 1, 2])


def test_a_reading_inside_a_much_larger_plate_is_dropped():
    from anprd.detect.detector import drop_nested
    from anprd.reads import PlateRead

    def read(text, box, conf=0.9):
        return PlateRead(text, "mercosur_ar", conf, 0.9, box, (conf,) * 7, np.zeros((7, 37)))

    plate = read("AA176YX", (0, 0, 1280, 720), conf=0.6)
    lettering = read("SSZ332", (506, 214, 643, 276), conf=0.95)  # on the plate's 7
    beside = read("AB123CD", (1300, 300, 1420, 340))  # another car's plate, outside it
    half_out = read("AC456EF", (1200, 600, 1400, 700))  # only partly inside
    similar = read("AD789GH", (100, 100, 500, 220))  # inside, but not twice smaller wide
    big = read("AE111AA", (0, 0, 600, 300))
    assert drop_nested([plate, lettering, beside, half_out]) == [plate, beside, half_out]
    assert drop_nested([big, similar]) == [big, similar]


def test_a_crop_is_read_on_a_flat_field_of_its_edge_grey_not_its_edge_smeared():
    from anprd.detect.reader import crop_views

    crop = np.full((40, 120), 200, np.uint8)  # a light plate...
    crop[8:32, 0:6] = 20  # ...whose first character touches the crop's left edge
    for win in crop_views(crop):
        assert win.shape == (64, 128)
        left = win[20:44, :8]  # beside the crop: the field, not the character stretched out
        assert np.all(np.abs(left.astype(int) - 200) <= 1)


@pytest.mark.parametrize("cx, cy, scale", [
    (640, 360, 1.0), (640, 360, 0.5), (640, 360, 0.2), (8, 6, 0.3), (1275, 716, 0.45),
    (90, 700, 0.7), (640, 360, 1.6),
])
def test_reading_views_sample_the_picture_smoothed_as_a_whole(cx, cy, scale):
    """The views smooth only the part of the picture they sample: the windows must be
    those of the whole picture smoothed for the candidate's scale (the views' scales are
    within 6% of it), at the edges too."""
    import cv2

    from anprd.detect.reader import READ_VIEWS, views

    gray = (np.random.default_rng(1).random((720, 1280)) * 255).astype(np.float32)
    for (dx, f), win in zip(READ_VIEWS, views(gray, cx, cy, scale), strict=True):
        s = scale * f
        whole = cv2.GaussianBlur(gray, (0, 0), 0.5 / scale) if scale < 1 else gray
        x = cx + dx / scale
        m = np.float32([[s, 0, 64 - s * x], [0, s, 32 - s * cy]])
        want = cv2.warpAffine(whole, m, (128, 64), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        assert np.abs(win - want).max() < 0.01


def test_a_big_photo_starts_its_pyramid_within_the_pixel_bound():
    from anprd.reads import PICTURE_MAX_PIXELS as MAX

    levels = levels_for(4000, 3000, None, MAX)
    top = levels[0]
    assert top.shape[0] * top.shape[1] <= MAX < 2 * top.shape[0] * top.shape[1]
    # Down to the same smallest level as before: the plates filling the photo are seen.
    assert levels[-1].shape[1] >= MIN_PLATE > levels[-1].shape[1] * 2**-0.5
    # A 1280 x 720 frame, a 1080p one and a small picture are not shrunk first.
    assert levels_for(1280, 720, None, MAX)[0].scale == 1.0
    assert levels_for(1920, 1080, None, MAX)[0].scale == 1.0
    assert abs(levels_for(259, 194, None, MAX)[0].scale - 2) < 1e-9
    # A camera's frames keep every level (no bound), and a plate range picks its own.
    assert levels_for(4000, 3000)[0].scale == 1.0
    assert levels_for(4000, 3000, (80, 120), MAX)[0].scale > top.scale


def test_a_padded_level_surrounds_the_picture_with_the_flat_fill_when_given():
    last = levels_for(640, 480)[-1]
    gray = np.full((480, 640), 200, np.uint8)
    gray[:, :20] = 10  # a dark character touching the picture's left edge
    smeared = last.image(gray)
    flat = last.image(gray, fill=120.0)
    top, left = last.pad
    assert left > 0
    assert np.all(flat[:, : left - 1] == 120) and np.all(flat[: top - 1] == 120)
    assert smeared[32, 0] < 60  # repeated, the dark edge reaches the window's border
    h, w = last.shape
    inside = np.s_[top : top + h, left : left + w]
    assert np.array_equal(flat[inside], smeared[inside])


def test_a_reading_too_unsure_to_be_a_plate_holds_no_other_plate():
    from anprd.detect.detector import NESTED_MIN_CONFIDENCE, drop_nested
    from anprd.reads import PlateRead

    def read(text, box, conf):
        return PlateRead(text, "mercosur_ar", conf, 0.7, box, (conf,) * 7, np.zeros((7, 37)))

    plate = read("AE946PP", (230, 250, 330, 285), 0.95)
    whole = read("EEB184", (0, 0, 555, 362), NESTED_MIN_CONFIDENCE / 2)  # the whole picture
    assert drop_nested([whole, plate]) == [whole, plate]
    front = read("EBS555", (0, 0, 1000, 449), 0.27)  # a car's rear, read as a plate
    assert drop_nested([front, plate]) == [front, plate]
    surer = read("EEB184", (0, 0, 555, 362), 0.6)
    assert drop_nested([surer, plate]) == [surer]
    # The floor itself: at it the larger reading counts as a plate, just under it not.
    at = read("EEB184", (0, 0, 555, 362), NESTED_MIN_CONFIDENCE)
    under = read("EEB184", (0, 0, 555, 362), NESTED_MIN_CONFIDENCE - 0.01)
    assert drop_nested([at, plate]) == [at]
    assert drop_nested([under, plate]) == [under, plate]


def test_levels_shrunk_an_octave_at_a_time_match_levels_shrunk_from_the_picture():
    import cv2

    from tests.conftest import REPO_ROOT

    gray = cv2.imread(str(REPO_ROOT / "samples" / "scene.jpg"), cv2.IMREAD_GRAYSCALE)
    levels = levels_for(gray.shape[1], gray.shape[0])
    chained = level_images(levels, gray, fill=120.0)
    for lv, img in zip(levels, chained, strict=True):
        direct = lv.image(gray, fill=120.0)
        assert img.shape == direct.shape == lv.canvas
        diff = np.abs(img.astype(int) - direct.astype(int))
        assert diff.mean() < 1.0, (lv.index, diff.mean())


def test_a_plate_read_at_several_scales_is_the_one_they_agree_on():
    from anprd.detect.detector import _agreed
    from anprd.detect.formats import Reading

    def read(text, conf):
        return Reading(text, "mercosur_ar", conf, (conf,) * 7)

    # The news video's worn second A: read L at one scale with full confidence, A at two.
    tries = [(0, read("AL176YX", 1.0), "p1"), (0, read("AA176YX", 0.999), "p2"),
             (0, read("AA176YX", 0.46), "p3"), (0, None, None),
             (1, read("AB123CD", 0.9), "q1")]
    got = _agreed(tries)
    assert got[0][0].plate == "AA176YX" and got[0][1] == "p2"  # its most confident scale
    assert got[1][0].plate == "AB123CD"
