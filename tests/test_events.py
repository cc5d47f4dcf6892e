"""The event log: schema, durability, crash repair, snapshots."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anprd.output.events import EventSink, iso_utc, read_events, repair_tail
from anprd.track import PlateEvent

REPO = Path(__file__).resolve().parents[1]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = [
    "id",
    "camera",
    "plate",
    "format",
    "confidence",
    "first_seen",
    "last_seen",
    "reads",
    "box",
    "snapshot",
    "snapshot_crop",
    "list",
    "label",
    "matched_plate",
    "distance",
]


def event(plate="AB123CD", t=1714564801.2, box=(40, 50, 120, 76)) -> PlateEvent:
    return PlateEvent(
        camera="gate-north",
        plate=plate,
        format="mercosur_ar",
        confidence=0.93,
        char_conf=(0.99,) * 7,
        first_seen=t,
        last_seen=t + 1.4,
        reads=7,
        box=box,
        track_id=1,
    )


def test_iso_utc():
    assert iso_utc(1714564801.2) == "2024-05-01T12:00:01.200Z"
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"


def test_emit_writes_one_whole_json_line_per_event(tmp_path):
    path = tmp_path / "sub" / "events.jsonl"
    with EventSink(path) as sink:
        r1 = sink.emit(event())
        r2 = sink.emit(event("ABC123"))
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    objs = [json.loads(x) for x in lines[:2]]
    assert list(objs[0]) == FIELDS
    assert objs[0] == {
        "id": r1.id,
        "camera": "gate-north",
        "plate": "AB123CD",
        "format": "mercosur_ar",
        "confidence": 0.93,
        "first_seen": "2024-05-01T12:00:01.200Z",
        "last_seen": "2024-05-01T12:00:02.600Z",
        "reads": 7,
        "box": [40, 50, 120, 76],
        "snapshot": None,
        "snapshot_crop": None,
        "list": None,
        "label": None,
        "matched_plate": None,
        "distance": None,
    }
    assert objs[1]["plate"] == "ABC123" and objs[1]["id"] == r2.id != r1.id
    assert ISO.match(objs[1]["first_seen"]) and ISO.match(objs[1]["last_seen"])
    # Appends after a restart; ids sort by time.
    with EventSink(path) as sink:
        sink.emit(event(t=1714564901.0))
    ids = [e["id"] for e in read_events(path)]
    assert len(ids) == 3 and ids[2] > ids[0]


def test_event_goes_to_the_log_as_one_line(tmp_path, caplog):
    caplog.set_level("INFO", logger="anprd.events")
    with EventSink(tmp_path / "e.jsonl") as sink:
        rec = sink.emit(event())
    lines = [r.getMessage() for r in caplog.records if r.name == "anprd.events"]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert json.loads(lines[0].split(" ", 2)[2]) == rec.to_json()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", b""),
        (b'{"a":1}\n', b'{"a":1}\n'),
        (b'{"a":1}\n{"b":', b'{"a":1}\n'),
        (b'{"partial', b""),
        (b'{"a":1}\n{"b":2}\n' + b"x" * 200_000, b'{"a":1}\n{"b":2}\n'),  # a long tail
    ],
)
def test_repair_tail(tmp_path, content, expected):
    path = tmp_path / "e.jsonl"
    path.write_bytes(content)
    assert repair_tail(path) == len(content) - len(expected)
    assert path.read_bytes() == expected
    assert repair_tail(tmp_path / "missing.jsonl") == 0


def test_open_repairs_a_partial_line_then_appends(tmp_path, caplog):
    path = tmp_path / "e.jsonl"
    with EventSink(path) as sink:
        sink.emit(event())
    with open(path, "ab") as f:
        f.write(b'{"id":"dead","camera":"gate')  # a crash in the middle of a write
    with EventSink(path) as sink:
        sink.emit(event("ABC123"))
    assert [e["plate"] for e in read_events(path)] == ["AB123CD", "ABC123"]
    assert all(json.loads(line) for line in path.read_text().splitlines())
    assert "partial line" in caplog.text


CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from anprd.output.events import EventSink
from anprd.track import PlateEvent
sink = EventSink(sys.argv[1]).open()
i = 0
while True:
    i += 1
    e = PlateEvent(camera="cam", plate="AB%03dCD" % (i % 1000), format="mercosur_ar",
                   confidence=0.9, char_conf=(0.9,) * 7, first_seen=time.time(),
                   last_seen=time.time(), reads=3 + i, box=(1, 2, 3, 4), track_id=i)
    rec = sink.emit(e)
    print(rec.id, flush=True)  # reported as emitted only after emit() returned
"""


def test_kill_9_while_writing_leaves_only_whole_lines_and_loses_no_emitted_event(tmp_path):
    path = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(REPO)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    reported = []
    deadline = time.monotonic() + 30
    while len(reported) < 200 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    reported += [x.strip() for x in proc.stdout.read().splitlines() if x.strip()]
    assert len(reported) >= 200, "the writer did not run"

    EventSink(path).open().close()  # what the daemon does at start: repair the tail
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    ids = [json.loads(line)["id"] for line in raw.splitlines()]  # every line is whole JSON
    assert set(reported) <= set(ids), "an event reported as emitted is missing"
    assert len(ids) == len(set(ids))


def test_snapshots_crop_and_frame(tmp_path):
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[50:76, 40:120] = 255
    snaps = tmp_path / "snaps"
    with EventSink(tmp_path / "e.jsonl", snaps) as sink:
        rec = sink.emit(event(), frame)
        no_frame = sink.emit(event("ABC123"))
        outside = sink.emit(event("AC000AA", box=(500, 500, 600, 600)), frame)
    assert rec.snapshot and rec.snapshot_crop
    assert Path(rec.snapshot).parent == snaps / "gate-north" / "2024-05-01"
    import cv2

    crop = cv2.imread(rec.snapshot_crop)
    full = cv2.imread(rec.snapshot)
    assert crop.shape[:2] == (26, 80) and crop.mean() > 200
    assert full.shape == frame.shape
    assert no_frame.snapshot is None and no_frame.snapshot_crop is None
    assert outside.snapshot and outside.snapshot_crop is None  # box outside the picture
    assert not list(snaps.rglob("*.tmp"))
    assert read_events(tmp_path / "e.jsonl")[0]["snapshot"] == rec.snapshot


def test_snapshot_failure_does_not_lose_the_event(tmp_path):
    snaps = tmp_path / "snaps"
    with EventSink(tmp_path / "e.jsonl", snaps) as sink:
        (snaps / "gate-north").write_text("not a folder")
        rec = sink.emit(event(), np.zeros((10, 10, 3), np.uint8))
    assert rec.snapshot is None
    assert [e["plate"] for e in read_events(tmp_path / "e.jsonl")] == ["AB123CD"]


def test_emit_needs_open(tmp_path):
    with pytest.raises(RuntimeError):
        EventSink(tmp_path / "e.jsonl").emit(event())


def test_reopen_after_rotation(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventSink(path) as sink:
        sink.emit(event())
        path.rename(tmp_path / "events.jsonl.1")  # logrotate moves it away
        sink.reopen()  # SIGHUP
        sink.emit(event("ABC123"))
    assert [e["plate"] for e in read_events(tmp_path / "events.jsonl.1")] == ["AB123CD"]
    assert [e["plate"] for e in read_events(path)] == ["ABC123"]


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from anprd.output.events import EventSink
from tests.test_events import event
path = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full write fails with EFBIG instead
with EventSink(path) as sink:
    sink.emit(event("AA111AA"))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 100, hard))
    try:
        sink.emit(event("AB123CD"))
    except OSError as e:
        print("failed:", e.errno)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space again
    sink.emit(event("AC456EF"))
"""


def test_a_write_that_fails_part_way_leaves_no_fragment_before_the_next_event(tmp_path):
    # The disk fills in the middle of an event's line: that event is not emitted (an
    # error), and the next one, once there is room, is a whole line of its own.
    path = tmp_path / "events.jsonl"
    r = subprocess.run([sys.executable, "-c", _FULL_DISK, str(path)],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "failed: 27" in r.stdout  # EFBIG
    assert [e["plate"] for e in read_events(path)] == ["AA111AA", "AC456EF"]


def test_events_to_a_pipe_are_written_and_emitted(tmp_path):
    # events.path: /dev/stdout under a pipe: fsync is impossible there, and not an error.
    script = ("from anprd.output.events import EventSink\nfrom tests.test_events import event\n"
              "with EventSink('/dev/stdout') as sink:\n"
              "    sink.emit(event('AB123CD')); sink.emit(event('AC456EF'))\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["plate"] for x in r.stdout.splitlines()] == ["AB123CD", "AC456EF"]


def test_a_file_in_the_way_of_a_folder_is_named(tmp_path):
    # An operator's typo: the message names the setting and the file in the way.
    (tmp_path / "taken").write_text("x")
    with pytest.raises(OSError, match=r"cannot make the snapshots folder \(events.snapshots\) "
                       rf"{tmp_path / 'taken' / 'snaps'}: {tmp_path / 'taken'} is a file"):
        EventSink(tmp_path / "e.jsonl", tmp_path / "taken" / "snaps").open()
    with pytest.raises(OSError, match=rf"events file's folder {tmp_path / 'taken'}: "
                       rf"{tmp_path / 'taken'} is a file, not a folder"):
        EventSink(tmp_path / "taken" / "e.jsonl").open()
    with pytest.raises(OSError, match=rf"cannot open the events file {tmp_path}: Is a directory"):
        EventSink(tmp_path).open()
