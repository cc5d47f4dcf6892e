"""Known-plate lists and the sinks' config and queue: matching, named problems, bounds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import fake_weights

from anprd.config.lists import normalise_plate
from anprd.config.load import ConfigError, load_config
from anprd.output.known_plates import KnownPlates, neighbours
from anprd.output.sinks.queue import Outbox

REPO = Path(__file__).resolve().parent.parent


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "anprd.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_file(tmp_path, text), check_files=False)
    return [str(p) for p in info.value.problems]


LISTS = """
lists:
  - name: residents
    file: residents.csv
    match_distance: 1
    plates: [AD789GH]
  - name: staff
    cameras: [gate]
    plates: [{plate: "ab 123 cd", label: Guard}, ABC123]
cameras:
  - {name: gate, url: gate.mp4}
  - {name: yard, url: yard.mp4}
"""


def test_lists_from_yaml_and_csv_match_exactly_or_one_character_off(tmp_path):
    (tmp_path / "residents.csv").write_text("plate,label\nAC456EF,\"Ana, 4B\"\nAE111AA,\n")
    config = load_config(config_file(tmp_path, LISTS), check_files=False)
    known = KnownPlates(config.lists)
    assert len(known) == 5
    exact = known.match("gate", "AB123CD")
    assert (exact.list, exact.label, exact.distance) == ("staff", "Guard", 0)
    assert known.match("yard", "AB123CD") is None  # staff is for the gate only
    assert known.match("gate", "AB123CE") is None  # staff has no match_distance
    near = known.match("yard", "AC456EE")
    assert (near.list, near.label, near.plate, near.distance) == ("residents", "Ana, 4B",
                                                                  "AC456EF", 1)
    assert known.match("yard", "AC46EF").plate == "AC456EF"  # a character missing
    assert known.match("yard", "AC4566EF").plate == "AC456EF"  # one extra
    assert known.match("yard", "AC455EE") is None  # two off


def test_two_listed_plates_one_character_off_are_ambiguous(tmp_path):
    config = load_config(config_file(tmp_path, """
        lists: [{name: r, match_distance: 1, plates: [AB123CD, AB123CE]}]
        cameras: [{name: gate, url: gate.mp4}]
    """), check_files=False)
    known = KnownPlates(config.lists)
    assert known.match("gate", "AB123CF") is None
    assert known.match("gate", "AB123CE").distance == 0


def test_neighbours_and_normalising():
    assert normalise_plate(" ab-123 cd ") == "AB123CD"
    near = neighbours("AB1")
    assert "AB2" in near and "A1" in near and "AB12" in near and "AB1" not in near


def test_list_problems_are_named_with_their_key_path(tmp_path):
    (tmp_path / "bad.csv").write_text("plate,label\nAB123CD,ok\nNOPE,x\n")
    found = problems(tmp_path, """
        lists:
          - {name: staff, cameras: [gate, nowhere], plates: [AB123CD]}
          - {name: staff, plates: [XYZ]}
          - {name: Bad Name}
          - {name: gone, file: missing.csv}
          - {name: csv, file: bad.csv}
        cameras: [{name: gate, url: gate.mp4}]
    """)
    text = "\n".join(found)
    assert "lists[1].plates[0].plate: 'XYZ' fits no plate format" in text
    assert "lists[2].name: must use only lowercase" in text
    assert "plates file not found" in text and "missing.csv" in text
    assert "bad.csv line 3: 'NOPE' fits no plate format" in text


def test_unknown_camera_and_duplicate_list_are_named(tmp_path):
    text = "\n".join(problems(tmp_path, """
        lists:
          - {name: staff, cameras: [gate, nowhere], plates: [AB123CD]}
          - {name: staff, plates: [AC456EF]}
        cameras: [{name: gate, url: gate.mp4}]
    """))
    assert "lists[0].cameras[1]: unknown camera 'nowhere' (cameras: gate)" in text
    assert "lists[1].name: duplicate list name 'staff' (also lists[0])" in text


def test_sink_problems_are_named_and_secrets_never_shown(tmp_path):
    text = "\n".join(problems(tmp_path, """
        events:
          sinks:
            - {type: webhook, url: "http://user:hunter2@example.com:99999/x"}
            - {type: webhook, url: "ftp://example.com/x"}
            - {type: webhook, url: "https://example.com/x", secret_file: nowhere.secret}
            - {type: mqtt, host: "mqtt://broker", password: hunter2, password_file: p}
            - {type: carrier-pigeon}
            - {type: mqtt, host: a, colour: red}
        cameras: []
    """))
    assert "events.sinks[0].url: the port is not a number from 1 to 65535" in text
    assert "events.sinks[1].url: expected an http:// or https:// URL" in text
    assert "events.sinks[2].secret_file: file not found" in text
    assert "events.sinks[3].host: expected a host name" in text
    assert "events.sinks[4]: unknown sink type 'carrier-pigeon'; known types" in text
    assert "events.sinks[5].colour: unknown key 'colour' (known keys here: name," in text
    assert "hunter2" not in text


def test_duplicate_sink_names_are_refused(tmp_path):
    text = "\n".join(problems(tmp_path, """
        events:
          sinks: [{type: mqtt, host: a}, {type: mqtt, host: b}]
        cameras: []
    """))
    assert "events.sinks[1].name: another sink is named 'mqtt'" in text


def test_check_config_reports_lists_and_sinks(tmp_path):
    fake_weights(tmp_path / "w.keras")
    path = config_file(tmp_path, """
        model: {weights: w.keras}
        events:
          sinks: [{type: webhook, url: "https://user:hunter2@example.com/hook"}]
        lists: [{name: staff, plates: [AB123CD, AC456EF]}]
        cameras: [{name: gate, url: gate.mp4}]
    """)
    result = subprocess.run([sys.executable, "-m", "anprd", "check-config", str(path)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 list (2 plates)" in result.stdout
    assert "sinks: webhook https://user:***@example.com/hook" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


# ----------------------------------------------------------------------------- queue


def test_queue_is_bounded_dropping_the_oldest_and_survives_reopening(tmp_path):
    q = Outbox(tmp_path / "q.sqlite3", max_events=5, max_bytes=10_000).open()
    dropped = sum(q.put("gate", f"id{i}", b"x" * 10) for i in range(8))
    assert dropped == 3 and q.depth == 5
    assert q.head().event_id == "id3"
    q.close()
    q = Outbox(tmp_path / "q.sqlite3", max_events=5, max_bytes=35).open()
    assert q.depth == 5 and q.last_put() == "id7"
    assert q.put("gate", "id8", b"y" * 10) == 3  # 35 bytes hold 3 of them
    assert q.depth == 3 and q.size_bytes == 30
    order = []
    while (m := q.head()) is not None:
        order.append(m.event_id)
        q.ack(m)
    assert order == ["id6", "id7", "id8"] and q.depth == 0 and q.oldest_age() == 0
    q.close()
