"""Reads -> events: association, vote over frames, emission rules, cool-down."""

from __future__ import annotations

import numpy as np
import pytest
from daemon_helpers import make_probs, make_read, simple_decode
from hypothesis import given, settings
from hypothesis import strategies as st

from anprd.boxes import iou
from anprd.detect.formats import softmax
from anprd.reads import PlateRead
from anprd.track import Tracker, TrackerParams, centre_shift, edit_distance

BOX = (100, 100, 200, 130)


def tracker(**kw) -> Tracker:
    params = TrackerParams(
        **{"min_reads": 2, "track_timeout_s": 2.0, "cooldown_s": 30.0, "min_confidence": 0.5, **kw}
    )
    return Tracker("cam", params, decode=simple_decode)


def moved(box, dx, dy=0):
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def test_helpers():
    assert edit_distance("AB123CD", "AB123CD") == 0
    assert edit_distance("AB123CD", "AB128CD") == 1
    assert edit_distance("ABC123", "AB123CD") == 3
    assert iou(BOX, BOX) == 1.0
    assert iou(BOX, moved(BOX, 1000)) == 0.0
    assert centre_shift(BOX, moved(BOX, 50)) == pytest.approx(0.5)
    one = make_probs("AB123CD")
    assert np.allclose(softmax(np.log(one)), one)
    three = softmax(np.log(one) * 3)  # three agreeing reads: the same text, surer
    assert np.allclose(three.sum(axis=1), 1.0)
    assert (three.argmax(axis=1) == one.argmax(axis=1)).all()
    assert (three.max(axis=1) > one.max(axis=1)).all()


def test_one_vehicle_one_event_as_soon_as_reads_agree():
    tr = tracker()
    assert tr.update([make_read("AB123CD", BOX)], 0.0) == []
    events = tr.update([make_read("AB123CD", moved(BOX, 20))], 0.2)
    assert [e.plate for e in events] == ["AB123CD"]
    e = events[0]
    assert (e.camera, e.format, e.reads, e.first_seen, e.last_seen) == (
        "cam",
        "mercosur_ar",
        2,
        0.0,
        0.2,
    )
    assert 0.95**7 < e.confidence <= 1.0  # two agreeing reads are surer than one
    assert len(e.char_conf) == 7
    # More frames of the same vehicle, then it leaves: nothing more.
    for k in range(2, 10):
        assert tr.update([make_read("AB123CD", moved(BOX, 20 * k))], 0.2 * k) == []
    assert tr.tick(100.0) == []
    assert tr.flush() == []


def test_vote_over_frames_beats_the_best_single_frame():
    # Frame 1 is the most confident read but misreads the 5th character (3 -> 8);
    # frames 2 and 3 are less sure of everything but right. The vote is right.
    r1 = make_read("AB128CD", BOX, p=0.99, alt={4: ("3", 0.004)})
    r1 = PlateRead(**{**r1.__dict__, "probs": _with(r1.probs, 4, {"8": 0.55, "3": 0.40})})
    r2 = make_read("AB123CD", moved(BOX, 10), p=0.9, alt={4: ("8", 0.05)})
    r2 = PlateRead(**{**r2.__dict__, "probs": _with(r2.probs, 4, {"3": 0.6, "8": 0.35})})
    r3 = PlateRead(**{**r2.__dict__, "box": moved(BOX, 20)})
    best_single = max([r1, r2, r3], key=lambda r: simple_decode(r.probs, ["mercosur_ar"])[2])
    assert simple_decode(best_single.probs, ["mercosur_ar"])[0] == "AB128CD"

    tr = tracker()
    assert tr.update([r1], 0.0) == []
    assert tr.update([r2], 0.2) == []  # combined reads AB123CD, but only one read agrees
    events = tr.update([r3], 0.4)
    assert [e.plate for e in events] == ["AB123CD"]
    assert events[0].reads == 3


def _with(probs, pos, dist):
    from anprd.reads import ALPHABET

    p = probs.copy()
    rest = 1.0 - sum(dist.values())
    p[pos, :] = rest / (p.shape[1] - len(dist))
    for ch, q in dist.items():
        p[pos, ALPHABET.index(ch)] = q
    return p


def test_text_similarity_keeps_a_misread_in_the_same_track():
    tr = tracker(min_reads=3)
    tr.update([make_read("AB123CD", BOX)], 0.0)
    tr.update([make_read("AB128CD", moved(BOX, 15), p=0.7)], 0.2)  # one character off
    events = tr.update([make_read("AB123CD", moved(BOX, 30))], 0.4)
    assert len(tr.tracks) == 1
    events += tr.update([make_read("AB123CD", moved(BOX, 45))], 0.6)
    events += tr.flush()
    assert [e.plate for e in events] == ["AB123CD"]
    assert events[0].reads == 4


def test_two_vehicles_at_once_two_events():
    tr = tracker()
    far = (600, 300, 700, 330)
    events = []
    for k in range(4):
        events += tr.update(
            [make_read("AB123CD", moved(BOX, 10 * k)), make_read("AC987ZZ", moved(far, -10 * k))],
            0.2 * k,
        )
    assert sorted(e.plate for e in events) == ["AB123CD", "AC987ZZ"]


def test_same_text_far_away_is_the_same_vehicle_but_different_text_far_away_is_not():
    tr = tracker(min_reads=3)
    tr.update([make_read("AB123CD", BOX)], 0.0)
    tr.update([make_read("AB123CD", moved(BOX, 800))], 0.2)  # jumped (low frame rate)
    assert len(tr.tracks) == 1
    tr.update([make_read("AB123CE", moved(BOX, 1600))], 0.4)  # similar text, far: new track
    assert len(tr.tracks) == 2


def test_single_read_makes_no_event_and_closes():
    tr = tracker()
    assert tr.update([make_read("AB123CD", BOX)], 0.0) == []
    assert tr.tick(1.9) == [] and len(tr.tracks) == 1
    assert tr.tick(2.1) == [] and tr.tracks == []


def test_reads_that_never_agree_exactly_are_emitted_when_the_track_closes():
    # Each read has one different position wrong; no two agree, the vote is right.
    reads = [
        make_read("AB123CD", BOX, p=0.9, alt={0: ("C", 0.08)}),
        make_read("AB123CD", moved(BOX, 10), p=0.9, alt={3: ("4", 0.08)}),
    ]
    reads = [
        PlateRead(**{**reads[0].__dict__, "plate": "CB123CD"}),
        PlateRead(**{**reads[1].__dict__, "plate": "AB143CD"}),
    ]
    tr = tracker()
    assert tr.update([reads[0]], 0.0) == []
    assert tr.update([reads[1]], 0.2) == []
    assert tr.tick(1.0) == []
    events = tr.tick(2.3)  # not seen for more than track_timeout_s: the vehicle left
    assert [e.plate for e in events] == ["AB123CD"]
    assert events[0].last_seen == 0.2


def test_cooldown_per_plate_from_last_seen():
    tr = tracker(cooldown_s=30.0)
    events = []
    for k in range(3):
        events += tr.update([make_read("AB123CD", moved(BOX, 10 * k))], 0.2 * k)
    assert len(events) == 1
    # The same car comes back 10 s later (track closed meanwhile): within the cool-down.
    for k in range(3):
        events += tr.update([make_read("AB123CD", moved(BOX, 10 * k))], 10 + 0.2 * k)
    assert len(events) == 1
    # A car parked in front of the gate for a minute: the cool-down runs from last seen.
    t = 20.0
    while t < 80:
        events += tr.update([make_read("AB123CD", BOX)], t)
        t += 1.0
    assert len(events) == 1
    # ... then leaves and comes back after the cool-down: a new event.
    for k in range(3):
        events += tr.update([make_read("AB123CD", moved(BOX, 10 * k))], 79 + 31 + 0.2 * k)
    assert len(events) == 2
    # Another plate is not affected by this plate's cool-down.
    for k in range(2):
        events += tr.update([make_read("AC000AA", moved(BOX, 10 * k))], 111 + 0.2 * k)
    assert [e.plate for e in events] == ["AB123CD", "AB123CD", "AC000AA"]


def test_min_confidence_and_format_filter():
    # Frames split evenly between 3 and 8 in one position: the vote stays unsure.
    a = make_read("AB123CD", BOX, p=0.99)
    b = make_read("AB128CD", moved(BOX, 5), p=0.99)
    a = PlateRead(**{**a.__dict__, "probs": _with(a.probs, 4, {"3": 0.5, "8": 0.45})})
    b = PlateRead(**{**b.__dict__, "probs": _with(b.probs, 4, {"8": 0.5, "3": 0.45})})
    unsure = tracker(min_confidence=0.6)
    events = []
    for k in range(6):
        events += unsure.update([a if k % 2 else b], 0.2 * k)
    events += unsure.flush()
    assert events == []
    sure = tracker(min_confidence=0.6)
    for k in range(6):
        events += sure.update([a], 0.2 * k)
    assert [e.plate for e in events] == ["AB123CD"]
    events = []

    legacy_only = Tracker(
        "cam",
        TrackerParams(formats=("legacy_ar",), min_confidence=0.0),
        decode=lambda probs, formats: None,
    )  # fits no format
    for k in range(5):
        events += legacy_only.update([make_read("AB123CD", moved(BOX, 5 * k))], 0.2 * k)
    events += legacy_only.flush()
    assert events == []


def test_legacy_plate_with_blank_position():
    tr = tracker()
    events = []
    for k in range(2):
        events += tr.update([make_read("ABC123", moved(BOX, 5 * k))], 0.2 * k)
    assert [(e.plate, e.format) for e in events] == [("ABC123", "legacy_ar")]
    assert len(events[0].char_conf) == 6


def test_flush_emits_what_is_due_and_min_reads_one_is_immediate():
    tr = tracker(min_reads=3)
    tr.update([make_read("AB123CD", BOX)], 0.0)
    tr.update([make_read("AB123CD", moved(BOX, 5))], 0.2)
    tr.update([make_read("AC111BB", moved(BOX, 600))], 0.2)
    events = tr.flush()
    assert events == []  # two reads < min_reads 3: not an event even on shutdown
    tr = tracker(min_reads=1)
    assert [e.plate for e in tr.update([make_read("AB123CD", BOX)], 0.0)] == ["AB123CD"]


def test_best_read_gives_box_and_ref():
    tr = tracker()
    tr.update([make_read("AB123CD", BOX, p=0.9)], 0.0, ref="frame-1")
    events = tr.update([make_read("AB123CD", moved(BOX, 40), p=0.99)], 0.2, ref="frame-2")
    assert events[0].box == moved(BOX, 40)
    assert events[0].ref == "frame-2"


def test_open_tracks_are_bounded():
    tr = tracker(max_tracks=4, min_reads=5)
    for i in range(20):
        tr.update([make_read(f"AA{i:03d}AA", (i * 300, 0, i * 300 + 100, 30))], 0.01 * i)
    assert len(tr.tracks) == 4


def test_with_the_real_formats_decoder():
    formats = pytest.importorskip("anprd.detect.formats", reason="anprd/formats.py not written yet")
    tr = Tracker("cam", TrackerParams(min_reads=2, min_confidence=0.5), decode=formats.decode)
    events = []
    for k in range(3):
        events += tr.update([make_read("AB123CD", moved(BOX, 10 * k))], 0.2 * k)
    events += tr.flush()
    assert [e.plate for e in events] == ["AB123CD"]


plates = st.sampled_from(["AB123CD", "AC456EF", "AD789GH"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 0.9), st.lists(plates, max_size=2, unique=True)), max_size=60)
)
def test_property_no_plate_twice_within_cooldown(frames):
    tr = tracker(cooldown_s=5.0, track_timeout_s=1.0)
    t = 0.0
    events = []
    lanes = {"AB123CD": 0, "AC456EF": 400, "AD789GH": 800}
    for dt, seen in frames:
        t += dt
        events += tr.update([make_read(p, moved(BOX, lanes[p])) for p in seen], t)
    events += tr.flush()
    last: dict[str, float] = {}
    for e in events:
        assert e.reads >= 2
        assert e.first_seen <= e.last_seen
        if e.plate in last:  # not again until the cool-down has run from its last sight
            assert e.last_seen >= last[e.plate] + 5.0
        last[e.plate] = e.last_seen
    assert len(tr.tracks) == 0
