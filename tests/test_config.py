"""The config file: loading, every kind of problem, password redaction, check-config."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import fake_weights
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from anprd import cli
from anprd.config.load import ConfigError, Problem, load_config, parse_config
from anprd.config.sections import (
    KNOWN_FORMATS,
    CameraConfig,
    Config,
)
from anprd.reads import DetectParams
from anprd.redact import redact_text, redact_url

REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cr3t-Pw"
URL = f"rtsp://admin:{PASSWORD}@192.0.2.10:554/stream1"

BASE: dict[str, Any] = {
    "model": {"weights": "w.keras"},
    "cameras": [
        {"name": "gate-north", "url": URL},
        {"name": "gate-south", "url": f"rtsp://op:{PASSWORD}@192.0.2.11/s"},
    ],
}


def write(tmp_path: Path, text: str, *, weights: bool = True) -> Path:
    """A config file in tmp_path, with an empty weights file beside it (w.keras)."""
    if weights:
        fake_weights(tmp_path / "w.keras")
    path = tmp_path / "anprd.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make(camera: dict[str, Any] | None = None, **top: Any) -> str:
    """BASE as YAML, with keys of the first camera and top-level sections replaced."""
    data = copy.deepcopy(BASE)
    data["cameras"][0].update(camera or {})
    data.update(top)
    return yaml.safe_dump(data, sort_keys=False)


def problems_of(tmp_path: Path, text: str, *, weights: bool = True) -> list[Problem]:
    path = write(tmp_path, text, weights=weights)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert PASSWORD not in str(info.value)
    for p in info.value.problems:
        assert p.file == str(path)
        assert PASSWORD not in str(p)
    return info.value.problems


def one_problem(tmp_path: Path, text: str, **kw: Any) -> Problem:
    problems = problems_of(tmp_path, text, **kw)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --------------------------------------------------------------------------- good files


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, make()))
    assert isinstance(cfg, Config)
    assert [c.name for c in cfg.cameras] == ["gate-north", "gate-south"]
    cam = cfg.cameras[0]
    assert cam.url == URL
    assert cam.sample_fps == 5 and cam.formats == KNOWN_FORMATS
    assert cam.dedup.min_reads == 2 and cam.stall_timeout_s == 10
    assert cam.roi is None and cam.plate_width_px is None
    assert not cam.is_file
    assert cfg.model.backend == "tensorflow" and cfg.model.device == "auto"
    assert cfg.model.weights == tmp_path / "w.keras"
    assert (cfg.http.host, cfg.http.port) == ("127.0.0.1", 9108)
    assert cfg.api.fetch_allowed_hosts == () and cfg.api.token is None
    assert cfg.events.snapshots is None


def test_no_cameras_is_valid(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, make(cameras=[]))).cameras == ()


def test_defaults_are_inherited_and_overridden(tmp_path: Path) -> None:
    text = make(
        {"sample_fps": 2, "dedup": {"cooldown_s": 5}},
        defaults={"sample_fps": 8, "min_confidence": 0.9, "dedup": {"min_reads": 4}},
    )
    north, south = load_config(write(tmp_path, text)).cameras
    assert north.sample_fps == 2 and south.sample_fps == 8
    assert north.min_confidence == south.min_confidence == 0.9
    assert (north.dedup.min_reads, north.dedup.cooldown_s) == (4, 5)
    assert (south.dedup.min_reads, south.dedup.cooldown_s) == (4, 30)


def test_relative_paths_are_from_the_config_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir("/")
    text = make({"url": "videos/a.mp4"}, events={"path": "ev/events.jsonl", "snapshots": "snaps"})
    cfg = load_config(write(tmp_path, text))
    assert cfg.cameras[0].is_file and cfg.cameras[0].url == str(tmp_path / "videos/a.mp4")
    assert cfg.events.path == tmp_path / "ev/events.jsonl"
    assert cfg.events.snapshots == tmp_path / "snaps"


@pytest.mark.parametrize(
    "url", ["https://cam.example/video.mjpg", "rtsps://u:p@h/x", "http://192.0.2.1:8080/x"]
)
def test_network_urls_are_accepted(tmp_path: Path, url: str) -> None:
    assert load_config(write(tmp_path, make({"url": url}))).cameras[0].url == url


def test_camera_to_detect_params(tmp_path: Path) -> None:
    text = make({
        "roi": [[0, 10.4], [100, 10], [100, 90]],
        "plate_width_px": [40, 300],
        "formats": ["legacy_ar"],
        "min_confidence": 0.7,
    })
    params = load_config(write(tmp_path, text)).cameras[0].detect_params()
    assert params == DetectParams(
        formats=("legacy_ar",), min_confidence=0.7,
        roi=((0, 10), (100, 10), (100, 90)), plate_width_px=(40, 300),
    )


def test_config_objects_are_frozen(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, make()))
    with pytest.raises(ValidationError):
        cfg.cameras[0].sample_fps = 1  # type: ignore[misc]


def test_example_config_is_valid(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "weights").mkdir()
    fake_weights(tmp_path / "weights" / "anprd.keras")
    example = tmp_path / "config" / "anprd.example.yaml"
    shutil.copy(REPO_ROOT / "config" / "anprd.example.yaml", example)
    cfg = load_config(example)
    assert [c.name for c in cfg.cameras] == ["gate-north", "gate-south"]
    assert cfg.cameras[1].dedup.min_reads == 3


def test_repo_configs_only_lack_weights_if_anything() -> None:
    for name in ("anprd.example.yaml", "sample.yaml"):
        try:
            load_config(REPO_ROOT / "config" / name)
        except ConfigError as e:
            assert [p.path for p in e.problems] == ["model.weights"], str(e)
            assert "weights file not found" in e.problems[0].message


# --------------------------------------------------------------------------- bad files

BAD_CASES = [
    # unknown keys
    ({"camera": {"sampel_fps": 3}}, "cameras[0].sampel_fps",
     "unknown key 'sampel_fps' (did you mean 'sample_fps'?)"),
    ({"top": {"modle": {}}}, "modle", "unknown key 'modle' (did you mean 'model'?)"),
    ({"top": {"model": {"weights": "w.keras", "devise": "gpu"}}}, "model.devise",
     "did you mean 'device'?"),
    ({"camera": {"dedup": {"min_read": 2}}}, "cameras[0].dedup.min_read",
     "did you mean 'min_reads'?"),
    ({"top": {"events": {"xyz": 1}}}, "events.xyz",
     "unknown key 'xyz' (known keys here: path, snapshots, crops, sinks, state_dir)"),
    ({"top": {"api": {"max_body": 5}}}, "api.max_body", "did you mean 'max_body_bytes'?"),
    # wrong types
    ({"camera": {"sample_fps": "fast"}}, "cameras[0].sample_fps",
     "expected a number, got 'fast'"),
    ({"camera": {"loop": "maybe"}}, "cameras[0].loop", "expected true or false, got 'maybe'"),
    ({"camera": {"name": 123}}, "cameras[0].name", "expected text, got 123"),
    ({"camera": {"dedup": {"min_reads": 2.5}}}, "cameras[0].dedup.min_reads",
     "expected a whole number, got 2.5"),
    ({"camera": {"roi": 5}}, "cameras[0].roi", "expected a list, got 5"),
    ({"top": {"model": ["w.keras"]}}, "model", "expected a mapping of keys, got a list"),
    ({"top": {"cameras": {"gate": {}}}}, "cameras", "expected a list, got a mapping"),
    ({"top": {"defaults": [1]}}, "defaults", "expected a mapping of camera keys"),
    ({"top": {"model": {"weights": "w.keras", "backend": "tensorflw"}}}, "model.backend",
     "must be one of tensorflow, jax, got 'tensorflw' (did you mean 'tensorflow'?)"),
    ({"top": {"model": {"weights": "w.keras", "device": "tpu"}}}, "model.device",
     "must be one of auto, cpu, gpu, got 'tpu'"),
    # out of range
    ({"camera": {"sample_fps": 0}}, "cameras[0].sample_fps", "must be greater than 0, got 0"),
    ({"camera": {"sample_fps": -2.5}}, "cameras[0].sample_fps", "must be greater than 0"),
    ({"camera": {"sample_fps": 500}}, "cameras[0].sample_fps", "must be at most 120, got 500"),
    ({"camera": {"min_confidence": 1.5}}, "cameras[0].min_confidence",
     "must be at most 1, got 1.5"),
    ({"camera": {"dedup": {"min_reads": 0}}}, "cameras[0].dedup.min_reads",
     "must be greater than 0, got 0"),
    ({"camera": {"dedup": {"cooldown_s": -1}}}, "cameras[0].dedup.cooldown_s",
     "must be at least 0, got -1"),
    ({"camera": {"stall_timeout_s": 0}}, "cameras[0].stall_timeout_s", "must be greater than 0"),
    ({"top": {"api": {"max_concurrent": 0}}}, "api.max_concurrent", "must be greater than 0"),
    # names
    ({"camera": {"name": "Gate North"}}, "cameras[0].name",
     "must use only lowercase letters, digits, '-' and '_', e.g. 'gate-north'"),
    ({"camera": {"name": "gate-south"}}, "cameras[1].name",
     "duplicate camera name 'gate-south' (also cameras[0])"),
    ({"camera": {"name": None}}, "cameras[0].name", "expected text, got null"),
    # ROI
    ({"camera": {"roi": [[0, 0], [10, 0]]}}, "cameras[0].roi",
     "a polygon needs at least 3 [x, y] points, got 2"),
    ({"camera": {"roi": [[0, 0], ["a", 0], [5, 5]]}}, "cameras[0].roi[1][0]",
     "expected a number of pixels, got 'a'"),
    ({"camera": {"roi": [[0, 0], [10, 0, 3], [5, 5]]}}, "cameras[0].roi[1]",
     "too many items: at most 2, got 3 (each point is [x, y] in pixels)"),
    ({"camera": {"roi": [[0, 0], [10], [5, 5]]}}, "cameras[0].roi[1][1]", "missing item"),
    ({"camera": {"roi": [[0, 0], [-1, 0], [5, 5]]}}, "cameras[0].roi[1][0]",
     "must be at least 0, got -1"),
    ({"camera": {"roi": [[0, 0], [10, 10], [10, 0], [0, 10]]}}, "cameras[0].roi",
     "the polygon crosses itself: edge roi[0]-roi[1] crosses edge roi[2]-roi[3]"),
    ({"camera": {"roi": [[0, 0], [5, 5], [10, 10]]}}, "cameras[0].roi",
     "the points are all on one line"),
    # plate widths and formats
    ({"camera": {"plate_width_px": [400, 60]}}, "cameras[0].plate_width_px",
     "smallest width 400 is larger than largest width 60"),
    ({"camera": {"plate_width_px": [0, 60]}}, "cameras[0].plate_width_px[0]",
     "must be greater than 0, got 0"),
    ({"camera": {"plate_width_px": [60]}}, "cameras[0].plate_width_px[1]",
     "missing item: the list is too short (expected [smallest, largest] in pixels)"),
    ({"camera": {"formats": ["mercosur"]}}, "cameras[0].formats[0]",
     "unknown plate format 'mercosur' (did you mean 'mercosur_ar'?); known formats: "
     "mercosur_ar, legacy_ar"),
    ({"camera": {"formats": []}}, "cameras[0].formats", "must not be empty"),
    # URLs and addresses
    ({"camera": {"url": f"ftp://admin:{PASSWORD}@192.0.2.1/x"}}, "cameras[0].url",
     "unsupported URL scheme 'ftp://' in 'ftp://admin:***@192.0.2.1/x'"),
    ({"camera": {"url": "rtsp://"}}, "cameras[0].url", "has no host"),
    ({"camera": {"url": "rtsp://:554/x"}}, "cameras[0].url", "has no host"),
    ({"camera": {"url": f"rtsp://admin:{PASSWORD}@"}}, "cameras[0].url", "has no host"),
    ({"camera": {"url": "rtsp://?x"}}, "cameras[0].url", "has no host"),
    ({"camera": {"url": "file://"}}, "cameras[0].url", "file:// names no file"),
    ({"camera": {"reconnect_max_s": float("inf")}}, "cameras[0].reconnect_max_s",
     "expected a finite number of seconds, got inf"),
    ({"camera": {"dedup": {"track_timeout_s": float("nan")}}},
     "cameras[0].dedup.track_timeout_s", "expected a finite number of seconds"),
    ({"camera": {"url": ""}}, "cameras[0].url", "must not be empty"),
    ({"camera": {"url": None}}, "cameras[0].url", "expected text, got null"),
    ({"top": {"http": {"listen": "localhost"}}}, "http.listen", "expected host:port"),
    ({"top": {"http": {"listen": "0.0.0.0:70000"}}}, "http.listen", "expected host:port"),
    ({"top": {"api": {"token": ""}}}, "api.token", "must not be empty"),
    ({"top": {"api": {"token": 918273645}}}, "api.token",
     "expected text, got a value that is not shown (secret)"),
    ({"top": {"api": {"fetch_allowed_hosts": ["https://img.example/"]}}},
     "api.fetch_allowed_hosts", "must be a host name like images.example.com"),
    # structure
    ({"top": {"cameras": [{"url": URL}]}}, "cameras[0].name", "required key is missing"),
    ({"top": {"cameras": ["gate"]}}, "cameras[0]", "expected a mapping of keys, got 'gate'"),
    ({"top": {"defaults": {"name": "x"}}}, "defaults.name", "every camera needs its own name"),
]


@pytest.mark.parametrize(
    ("change", "path", "message"), BAD_CASES, ids=[f"{c[1]}:{c[2][:30]}" for c in BAD_CASES]
)
def test_bad_config(tmp_path: Path, change: dict[str, Any], path: str, message: str) -> None:
    problem = one_problem(tmp_path, make(change.get("camera"), **change.get("top", {})))
    assert "918273645" not in str(problem)
    assert problem.path == path
    assert message in problem.message
    assert problem.line is not None


def test_missing_cameras_key(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "model: {weights: w.keras}\n")
    assert (problem.path, problem.line) == ("cameras", None)
    assert "required key is missing (write `cameras: []`" in problem.message


def test_missing_weights_file(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, make(), weights=False)
    assert problem.path == "model.weights" and problem.line == 2
    assert f"weights file not found: {tmp_path / 'w.keras'}" in problem.message


def test_reader_weights_are_checked_and_taken_from_the_config_folder(tmp_path: Path) -> None:
    text = make(model={"weights": "w.keras", "reader_weights": "r.keras"})
    problem = one_problem(tmp_path, text)
    assert problem.path == "model.reader_weights" and problem.line == 3
    assert f"weights file not found: {tmp_path / 'r.keras'}" in problem.message
    fake_weights(tmp_path / "r.keras")
    cfg = load_config(write(tmp_path, text))
    assert cfg.model.reader_weights == (tmp_path / "r.keras",)
    assert cfg.model.readers == (tmp_path / "r.keras",)
    # Not given: a file of one's own reads what it finds.
    cfg = load_config(write(tmp_path, make()))
    assert cfg.model.reader_weights == () and cfg.model.readers == (tmp_path / "w.keras",)


def test_several_reader_weights_each_checked(tmp_path: Path) -> None:
    text = make(model={"weights": "w.keras", "reader_weights": ["w.keras", "r.keras"]})
    problem = one_problem(tmp_path, text)
    assert problem.path == "model.reader_weights[1]"
    assert f"weights file not found: {tmp_path / 'r.keras'}" in problem.message
    fake_weights(tmp_path / "r.keras")
    cfg = load_config(write(tmp_path, text))
    assert cfg.model.readers == (tmp_path / "w.keras", tmp_path / "r.keras")


def test_the_shipped_weights_are_read_by_the_shipped_reader() -> None:
    from anprd.detect.shipped import DEFAULT_READERS, DEFAULT_WEIGHTS, readers_for

    assert readers_for(DEFAULT_WEIGHTS) == DEFAULT_READERS
    assert [f.name for f in DEFAULT_READERS] == ["wide.keras"]
    assert all(f.parent == DEFAULT_WEIGHTS.parent for f in DEFAULT_READERS)
    # A reader given replaces it; another weights file reads with its own reader.
    assert readers_for(DEFAULT_WEIGHTS, [Path("x.keras")]) == (Path("x.keras"),)
    assert readers_for(Path("mine.keras")) == (Path("mine.keras"),)


def test_check_config_names_the_readers_when_they_are_other_files(tmp_path: Path) -> None:
    from anprd.commands.check_config import _display, summary
    from anprd.detect.shipped import DEFAULT_READERS, DEFAULT_WEIGHTS

    cfg = load_config(write(tmp_path, make(model={"weights": str(DEFAULT_WEIGHTS)})))
    pair = " + ".join(_display(p) for p in DEFAULT_READERS)
    assert summary("anprd.yaml", cfg).endswith(f"model {_display(DEFAULT_WEIGHTS)} read by {pair}")
    # A file that reads its own finds is named once.
    own = summary("anprd.yaml", load_config(write(tmp_path, make())))
    assert own.endswith(f"model {_display(tmp_path / 'w.keras')}") and "read by" not in own


def test_a_missing_default_reader_of_the_shipped_weights_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped weights given without reader_weights are read by the shipped reader: a
    reader file gone missing is reported before the daemon starts, not when it loads."""
    from anprd.detect import shipped as config

    gone = tmp_path / "gone.keras"
    monkeypatch.setattr(config, "DEFAULT_READERS", (config.DEFAULT_WEIGHTS, gone))
    text = make(model={"weights": str(config.DEFAULT_WEIGHTS)})
    problem = one_problem(tmp_path, text)
    assert problem.path == "model.reader_weights"
    assert f"weights file not found: {gone}" in problem.message
    # Readers given are checked as given, and the default is not used.
    text = make(model={"weights": str(config.DEFAULT_WEIGHTS), "reader_weights": "w.keras"})
    assert load_config(write(tmp_path, text)).model.readers == (tmp_path / "w.keras",)


def test_weights_that_are_a_folder(tmp_path: Path) -> None:
    (tmp_path / "w.keras").mkdir()
    problem = one_problem(tmp_path, make(), weights=False)
    assert problem.path == "model.weights" and "is a folder" in problem.message


def test_check_files_false_skips_the_weights(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, make(), weights=False), check_files=False)
    assert cfg.model.weights == tmp_path / "w.keras"


def test_a_bad_default_is_reported_once_under_defaults(tmp_path: Path) -> None:
    text = make(defaults={"sample_fps": -1, "colour": "red", "dedup": {"min_reads": 0}})
    problems = problems_of(tmp_path, text)
    assert sorted(p.path for p in problems) == [
        "defaults.colour", "defaults.dedup.min_reads", "defaults.sample_fps"]
    assert "known keys here: name, url" in next(p for p in problems if "colour" in p.path).message


def test_a_name_in_defaults_is_not_inherited(tmp_path: Path) -> None:
    text = make(defaults={"name": "x"}, cameras=[{"url": "a.mp4"}, {"url": "b.mp4"}])
    problems = problems_of(tmp_path, text)
    paths = sorted(p.path for p in problems)
    assert paths == ["cameras[0].name", "cameras[1].name", "defaults.name"]


def test_a_camera_overriding_a_bad_default_is_not_blamed(tmp_path: Path) -> None:
    text = make({"sample_fps": 3}, defaults={"sample_fps": "fast"})
    assert [p.path for p in problems_of(tmp_path, text)] == ["defaults.sample_fps"]


def test_every_problem_at_once_in_line_order(tmp_path: Path) -> None:
    text = """\
        model:
          weights: missing.keras
          backend: torch
        http: {listen: nowhere}
        cameras:
          - name: Bad Name
            url: rtsp://admin:s3cr3t-Pw@192.0.2.10/s
            sample_fps: 0
          - name: ok
            url: cam.mp4
            roi: [[0, 0], [1, 1]]
            plate_width_px: [300, 20]
            sampel_fps: 2
        """
    problems = problems_of(tmp_path, text, weights=False)
    assert [(p.line, p.path) for p in problems] == [
        (2, "model.weights"),
        (3, "model.backend"),
        (4, "http.listen"),
        (6, "cameras[0].name"),
        (8, "cameras[0].sample_fps"),
        (11, "cameras[1].roi"),
        (12, "cameras[1].plate_width_px"),
        (13, "cameras[1].sampel_fps"),
    ]


# --------------------------------------------------------------------------- YAML level


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    text = "cameras:\n  - name: a\n    url: [unclosed\n  - name: b\n"
    problem = one_problem(tmp_path, text)
    assert problem.message.startswith("YAML syntax error: line 4, column 9: ")
    assert "expected ',' or ']'" in problem.message
    assert problem.line == 4 and problem.path == ""


def test_yaml_bad_indentation(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "cameras:\n  - name: a\n   url: x\n")
    assert "YAML syntax error: line 3" in problem.message


def test_yaml_tab_indentation(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "cameras:\n\t- name: a\n")
    assert "YAML syntax error: line 2" in problem.message
    assert "'\\t'" in problem.message


def test_several_yaml_documents(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "cameras: []\n---\ncameras: []\n")
    assert "YAML syntax error: line 2" in problem.message
    assert "expected a single document" in problem.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.path == "" and problem.message.startswith("the file is empty")


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "a list"), ("hello\n", "'hello'")])
def test_top_level_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.message.startswith("the top level must be a mapping of sections")
    assert problem.message.endswith(f"got {got}")


def test_key_given_twice(tmp_path: Path) -> None:
    text = """\
        model: {weights: w.keras}
        cameras:
          - name: a
            url: a.mp4
            sample_fps: 3
            sample_fps: 4
        """
    problem = one_problem(tmp_path, text)
    assert (problem.path, problem.line) == ("cameras[0].sample_fps", 6)
    assert problem.message == "key given twice (first on line 5); the later one would win"


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    text = """\
        model: {weights: w.keras}
        defaults: &d {sample_fps: 3, loop: true}
        cameras:
          - &gate {name: gate-a, url: a.mp4, sample_fps: 2}
          - <<: *gate
            name: gate-b
            url: b.mp4
          - <<: *d
            name: gate-c
            url: c.mp4
            sample_fps: 4
        """
    a, b, c = load_config(write(tmp_path, text)).cameras
    assert (b.name, b.url, b.sample_fps) == ("gate-b", str(tmp_path / "b.mp4"), 2)
    assert (c.sample_fps, c.loop) == (4, True)
    # A key written twice beside a merge is still a duplicate.
    problem = one_problem(tmp_path, text + "    url: d.mp4\n")
    assert (problem.path, problem.line) == ("cameras[2].url", 12)
    assert problem.message.startswith("key given twice (first on line 10)")


def test_alias_bomb_is_walked_once(tmp_path: Path) -> None:
    """9**7 paths through shared nodes (13 s when each path was walked, hours at 9
    levels): each node is walked, and given a line, once."""
    from anprd.config.problems import _Yaml

    lines = ["cameras: []", "a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    text = "\n".join(lines) + "\n"
    assert len(_Yaml(text).lines) < 100
    problems = problems_of(tmp_path, text)
    assert [p.path for p in problems] == [f"a{i}" for i in range(8)]


def test_yaml_nested_too_deeply(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras: []\nx: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}: the YAML is nested too deeply (lists or mappings "
                               "hundreds of levels inside each other)")
    result = anprd("check-config", str(path))
    assert result.returncode == 2 and "nested too deeply" in result.stderr


def test_keys_that_are_not_text(tmp_path: Path) -> None:
    text = make({5: "x", None: "y", True: "z"}, defaults={1.5: 3, None: 4})
    problems = problems_of(tmp_path, text)
    assert sorted((p.path, p.message) for p in problems) == [
        ("cameras[0]", "key 5 is not text"),
        ("cameras[0]", "key null is not text"),
        ("cameras[0]", "key true is not text"),
        ("defaults", "key 1.5 is not text"),
        ("defaults", "key null is not text"),
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read the file: No such file or directory" in str(info.value)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("cameras: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config(bad)


def test_parse_config_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("cameras: 3\n", source="inline", base_dir=tmp_path, check_files=False)
    assert str(info.value) == "inline:1: cameras: expected a list, got 3"


# --------------------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("rtsp://admin:pw@192.0.2.1:554/s", "rtsp://admin:***@192.0.2.1:554/s"),
        ("rtsp://admin:p@ss/w:rd@cam/s", "rtsp://admin:***@cam/s"),
        ("rtsp://192.0.2.1/s", "rtsp://192.0.2.1/s"),
        ("rtsp://viewer@192.0.2.1/s", "rtsp://viewer@192.0.2.1/s"),
        ("http://cam/video.cgi?user=a&pwd=pw&x=1", "http://cam/video.cgi?user=a&pwd=***&x=1"),
        ("https://cam/s?token=abc", "https://cam/s?token=***"),
        ("/srv/videos/a.mp4", "/srv/videos/a.mp4"),
    ],
)
def test_redact_url(url: str, safe: str) -> None:
    assert redact_url(url) == safe


# Printable ASCII, with spaces and tabs: what a camera password is made of.
password_chars = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)
                         | st.just("\t"), min_size=4)


@given(user=st.from_regex(r"[a-z]{1,8}", fullmatch=True), password=password_chars)
def test_redact_never_leaks_a_password(user: str, password: str) -> None:
    url = f"rtsp://{user}:{password}@192.0.2.7:554/stream"
    if password in f"rtsp://{user}:***@192.0.2.7:554/stream":
        return  # the password is a piece of the rest of the URL: nothing to hide
    assert password not in redact_url(url)
    assert password not in redact_text(f"cannot open {url}: timed out")
    assert password not in redact_text(f"[Errno 111] Connection refused: '{url}'")


def test_repr_and_str_hide_the_password(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, make(api={"token": "tok-SECRET-1"})))
    for text in (repr(cfg), str(cfg), repr(cfg.cameras[0]), str(cfg.cameras[0])):
        assert PASSWORD not in text and "tok-SECRET-1" not in text
    assert "rtsp://admin:***@192.0.2.10:554/stream1" in repr(cfg.cameras[0])
    assert cfg.cameras[0].safe_url == "rtsp://admin:***@192.0.2.10:554/stream1"


def test_validation_errors_of_the_models_hide_input() -> None:
    with pytest.raises(ValidationError) as info:
        CameraConfig(name="a", url=f"udp://admin:{PASSWORD}@h/s")
    assert PASSWORD not in str(info.value)


# --------------------------------------------------------------------------- the CLI


def anprd(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("ANPRD_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "anprd", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=120,
    )


def test_cli_version() -> None:
    from anprd import __version__

    result = anprd("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"anprd {__version__}")


def test_cli_check_config_good(tmp_path: Path) -> None:
    write(tmp_path, make())
    result = anprd("check-config", "anprd.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "anprd.yaml: OK, 2 cameras (gate-north, gate-south), model w.keras\n"


def test_cli_check_config_warns_of_a_file_camera_whose_video_is_not_there(
        tmp_path: Path) -> None:
    (tmp_path / "here.mp4").write_bytes(b"")
    data = copy.deepcopy(BASE)
    data["cameras"] = [{"name": "here", "url": str(tmp_path / "here.mp4")},
                       {"name": "typo", "url": str(tmp_path / "hree.mp4")}]
    write(tmp_path, yaml.safe_dump(data))
    result = anprd("check-config", "anprd.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # valid: the daemon waits for the file
    assert result.stderr == (f"anprd.yaml: warning: camera typo: no video file at "
                             f"{tmp_path / 'hree.mp4'} yet; the daemon will wait for it\n")


def test_cli_check_config_bad(tmp_path: Path) -> None:
    text = make({"sample_fps": 0, "url": f"udp://admin:{PASSWORD}@h/s"}, http={"listen": "x"})
    path = write(tmp_path, text, weights=False)
    result = anprd("check-config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 5, result.stderr
    for key in ("http.listen", "cameras[0].url", "cameras[0].sample_fps", "model.weights"):
        assert any(line.startswith(f"{path}:") and f": {key}: " in line for line in lines), key
    assert lines[-1] == f"{path}: 4 problems, config refused"
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr


def test_cli_check_config_yaml_error_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"cameras:\n  - url: rtsp://a:{PASSWORD}@h/s\n    name: [\n")
    result = anprd("check-config", str(path), str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "YAML syntax error: line" in result.stderr
    assert "nope.yaml: cannot read the file" in result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr


def test_cli_without_command_is_a_usage_error(capsys) -> None:
    assert cli.main([]) == 2
    assert "usage: anprd" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2


def test_cli_unexpected_error_is_one_line(monkeypatch, capsys, tmp_path: Path) -> None:
    def boom(*_: Any, **__: Any) -> Config:
        raise RuntimeError(f"cannot open rtsp://admin:{PASSWORD}@h/s\nsecond line")

    monkeypatch.setattr("anprd.commands.check_config.load_config", boom)
    monkeypatch.delenv("ANPRD_DEBUG", raising=False)
    assert cli.main(["check-config", "x.yaml"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and PASSWORD not in err
    assert "error: cannot open rtsp://admin:***@h/s second line" in err

    monkeypatch.setenv("ANPRD_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["check-config", "x.yaml"])


@pytest.mark.parametrize("url", [f"rtsp://admin:{PASSWORD}@192.0.2.10:notaport/stream",
                                 "rtsp://192.0.2.10:99999/stream", "http://[::1]:0/x"])
def test_a_camera_url_port_that_is_not_a_port_is_refused(tmp_path: Path, url: str) -> None:
    problem = one_problem(tmp_path, make({"url": url}))
    assert problem.path == "cameras[0].url"
    assert "the port is not a number from 1 to 65535" in problem.message


def test_weights_that_are_no_model_are_named_by_check_config(tmp_path: Path) -> None:
    import zipfile

    (tmp_path / "w.keras").write_text("this is a text file\n")
    problem = one_problem(tmp_path, make(), weights=False)
    assert problem.path == "model.weights"
    assert "is not a .keras weights file (a zip archive)" in problem.message
    with zipfile.ZipFile(tmp_path / "w.keras", "w") as archive:
        archive.writestr("notes.txt", "hello")
    problem = one_problem(tmp_path, make(), weights=False)
    assert "is a zip archive but not a .keras model" in problem.message


def test_the_runtime_and_its_threads_are_checked(tmp_path: Path) -> None:
    model = {"weights": "w.keras"}
    problem = one_problem(tmp_path, make(model={**model, "runtime": "tflite"}))
    assert problem.path == "model.runtime"
    assert "must be one of auto, keras, litert, onnxruntime, got 'tflite'" in problem.message
    problem = one_problem(tmp_path, make(model={**model, "threads": 0}))
    assert problem.path == "model.threads" and "must be at least 1, got 0" in problem.message
    path = write(tmp_path, make(model={**model, "runtime": "litert", "threads": 1,
                                       "exports": "exp"}))
    cfg = load_config(path)
    assert cfg.model.runtime == "litert" and cfg.model.threads == 1
    assert cfg.model.exports == (tmp_path / "exp",)
