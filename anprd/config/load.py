"""Loading a config file: YAML in, a validated `Config` or every problem of the file out.

`load_config(path)` returns a `Config` or raises `ConfigError`, which carries *every*
problem of the file (not only the first), each with the file, the line where known, the
key path (``cameras[1].sample_fps``) and a message meant for an operator. `defaults:`
is merged into each camera here, and the checks that span sections (a list's cameras,
sink names, the weights files) run after the models have validated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from anprd.config.lists import list_problems
from anprd.config.problems import ConfigError, Loc, Problem, _message, _show, _Yaml, format_path
from anprd.config.sections import CameraConfig, Config
from anprd.config.sinks import sink_problems
from anprd.detect.shipped import DEFAULT_WEIGHTS, readers_for
from anprd.detect.weights_check import weights_problem
from anprd.redact import redact_text

_SECTIONS = ("model", "http", "events", "api", "defaults")


def load_config(path: str | os.PathLike[str], *, check_files: bool = True) -> Config:
    """Read and validate a config file; relative paths in it are from its folder.

    `check_files=False` skips the check that the weights file exists (for tools and
    tests that never load the model).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Problem(str(path), "", "not a UTF-8 text file")]) from None
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ConfigError([Problem(str(path), "", f"cannot read the file: {reason}")]) from None
    return parse_config(text, source=str(path), base_dir=p.resolve().parent,
                        check_files=check_files)


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    base_dir: str | os.PathLike[str] | None = None,
    check_files: bool = True,
) -> Config:
    """Validate config text; `source` names it in problems, `base_dir` anchors paths."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems: list[Problem] = []

    def add(loc: Loc, message: str, line: int | None = None) -> None:
        problems.append(Problem(source, format_path(loc), redact_text(message), line))

    doc = _read_yaml(text, add)
    if doc is None:
        raise ConfigError(problems)
    for loc, line, first in doc.duplicates:
        add(loc, f"key given twice (first on line {first}); the later one would win", line)
    data = _sections(doc, add)
    if data is None:
        raise ConfigError(problems)
    defaults = _camera_defaults(data, doc, add)
    raw_cams = data.get("cameras")
    if isinstance(raw_cams, list):
        data["cameras"] = [_merge(defaults, c) if isinstance(c, dict) else c for c in raw_cams]

    config, errors = _validate(data, defaults, raw_cams, {"base_dir": base})
    for loc, err in errors:
        if err["type"] == "invalid_key":  # the key (5, null, true) is the last part of loc
            add(loc[:-1], f"key {_show(err['input'])} is not text", doc.line(loc[:-1]))
            continue
        root: type[BaseModel] = Config
        if loc[:1] == ("defaults",):
            root = CameraConfig
            err = {**err, "loc": loc[1:]}
        add(loc, _message(err, root), doc.line(loc))
    if isinstance(raw_cams, list):
        _duplicate_names(data["cameras"], doc, add)
    if config is not None:
        late = list_problems(config.lists, (c.name for c in config.cameras))
        for loc, message in late + sink_problems(config.events.sinks):
            add(loc, message, doc.line(loc))
    if check_files:
        _check_weights(data.get("model"), base, add, doc)

    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else math.inf)
        raise ConfigError(problems)
    assert config is not None
    return config


def _read_yaml(text: str, add) -> _Yaml | None:
    """The parsed document, or None with the syntax problem added."""
    try:
        return _Yaml(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(str(s) for s in (e.context, e.problem) if s) or "invalid YAML"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        add((), f"YAML syntax error: {where}{what}", mark.line + 1 if mark else None)
    except yaml.YAMLError as e:
        add((), f"YAML syntax error: {e}")
    except RecursionError:  # PyYAML composes nested lists and mappings recursively
        add((), "the YAML is nested too deeply (lists or mappings hundreds of levels "
                 "inside each other)")
    return None


def _sections(doc: _Yaml, add) -> dict | None:
    """The top-level mapping, empty sections made empty; None (a problem added) if the
    document is not a mapping."""
    data = doc.data
    if data is None:
        add((), "the file is empty; see config/anprd.example.yaml for what goes in it")
        return None
    if not isinstance(data, dict):
        add((), f"the top level must be a mapping of sections (model, http, events, api, "
                 f"defaults, lists, cameras), got {_show(data)}")
        return None
    data = dict(data)
    for key in _SECTIONS:  # "model:" with everything under it commented out
        if key in data and data[key] is None:
            data[key] = {}
    for key in ("cameras", "lists"):
        if key in data and data[key] is None:
            data[key] = []
    return data


def _camera_defaults(data: dict, doc: _Yaml, add) -> dict:
    """`defaults:` taken out of `data`: the camera keys every camera inherits."""
    defaults = data.pop("defaults", {})
    if not isinstance(defaults, dict):
        add(("defaults",), f"expected a mapping of camera keys, got {_show(defaults)}",
            doc.line(("defaults",)))
        return {}
    if "name" in defaults:
        add(("defaults", "name"), "every camera needs its own name; it cannot be a default",
            doc.line(("defaults", "name")))
        defaults = {k: v for k, v in defaults.items() if k != "name"}
    return defaults


def _validate(data: dict, defaults: dict, raw_cams: Any, context: dict
              ) -> tuple[Config | None, list[tuple[Loc, dict[str, Any]]]]:
    """The config, or None, and the validation errors: those of a default once, under
    `defaults`, not again under every camera that inherits it."""
    errors: list[tuple[Loc, dict[str, Any]]] = []
    if defaults:
        placeholder = {"name": "defaults", "url": "defaults.mp4", **defaults}
        try:
            CameraConfig.model_validate(placeholder, context=context)
        except ValidationError as e:
            errors += [(("defaults", *e_["loc"]), dict(e_)) for e_ in e.errors()]
    try:
        return Config.model_validate(data, context=context), errors
    except ValidationError as e:
        for err in e.errors():
            loc = _untagged(tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                err = {**err, "type": "sink_type", "msg": _sink_type_message(err)}
            if err["type"] == "duplicate_camera_name":
                continue  # reported per camera, with its path: `_duplicate_names`
            if loc[:1] == ("cameras",) and len(loc) > 2 and isinstance(raw_cams, list):
                cam = raw_cams[loc[1]] if isinstance(loc[1], int) else None
                # The loc of a key that is not text has the key as text (1.5 as '1.5').
                rest = loc[2:-1] + (err["input"],) if err["type"] == "invalid_key" else loc[2:]
                if isinstance(cam, dict) and _from_defaults(cam, defaults, rest):
                    continue  # already reported under defaults.*
            errors.append((loc, dict(err)))
    return None, errors


def _duplicate_names(cameras: list, doc: _Yaml, add) -> None:
    first_index: dict[str, int] = {}
    for i, cam in enumerate(cameras):
        name = cam.get("name") if isinstance(cam, dict) else None
        if not isinstance(name, str):
            continue
        if name in first_index:
            add(("cameras", i, "name"),
                f"duplicate camera name '{name}' (also cameras[{first_index[name]}])",
                doc.line(("cameras", i, "name")))
        else:
            first_index[name] = i


def _untagged(loc: Loc) -> Loc:
    """A sink's loc without the type pydantic puts in it (events.sinks[0].webhook.url)."""
    if loc[:2] == ("events", "sinks") and len(loc) > 3 and loc[3] in ("mqtt", "webhook"):
        return loc[:3] + loc[4:]
    return loc


def _sink_type_message(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "union_tag_not_found":
        return "a sink needs a type: mqtt or webhook"
    return f"unknown sink type {ctx.get('tag')!r}; known types: mqtt, webhook"


def _merge(defaults: dict[str, Any], camera: dict[str, Any]) -> dict[str, Any]:
    """Camera keys over defaults; mappings (``dedup``) are merged key by key."""
    out = dict(defaults)
    for key, value in camera.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _from_defaults(camera: dict[str, Any], defaults: dict[str, Any], rest: Loc) -> bool:
    """Whether the value at `rest` in the merged camera came from `defaults`."""
    key = rest[0]
    if key in camera:
        own, inherited = camera[key], defaults.get(key)
        if len(rest) > 1 and isinstance(own, dict) and isinstance(inherited, dict):
            return rest[1] not in own and rest[1] in inherited
        return False
    return key in defaults


def _check_weights(
    model: Any, base: Path, add: Callable[[Loc, str, int | None], None], doc: _Yaml
) -> None:
    if model is not None and not isinstance(model, dict):
        return  # a type error, already reported
    model = model or {}

    def path_of(w: str | Path) -> Path:
        return Path(os.path.normpath(base / Path(w).expanduser()))

    weights, readers = model.get("weights", DEFAULT_WEIGHTS), model.get("reader_weights")
    given = "(a relative path is taken from the config file's folder)"
    # (where, file, whether the file names it, what to say of a missing one)
    files: list[tuple[Loc, Any, bool, str]] = [(("model", "weights"), weights, "weights" in model,
                                                given)]
    if isinstance(readers, list):
        files += [(("model", "reader_weights", i), w, True, given) for i, w in enumerate(readers)]
    elif readers is not None:
        files.append((("model", "reader_weights"), readers, True, given))
    elif isinstance(weights, str | Path):
        # Not given: the readers the weights get by default (the shipped reader).
        files += [(("model", "reader_weights"), r, False, "(one of the shipped weights' "
                   "default readers)") for r in readers_for(path_of(weights))
                  if r != path_of(weights)]
    for loc, w, named, hint in files:
        if not isinstance(w, str | Path):
            continue  # a type error, already reported
        path = path_of(w)
        line = doc.line(loc) if named else None
        if path.is_dir():
            add(loc, f"is a folder, not a weights file: {path}", line)
        elif not path.is_file():
            add(loc, f"weights file not found: {path} {hint}", line)
        elif (problem := weights_problem(path)) is not None:
            add(loc, problem, line)

