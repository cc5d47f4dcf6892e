"""Config problems: each with its file, line and key path, in words an operator reads;
and the YAML reader that knows the line of every key."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from anprd.redact import redact_text


def _did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file."""

    file: str
    path: str  # e.g. "cameras[1].sample_fps"; "" for the file as a whole
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


Loc = tuple[str | int, ...]


def format_path(loc: Loc) -> str:
    """``("cameras", 1, "roi", 0)`` -> ``cameras[1].roi[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, str):
        s = redact_text(v)
        return repr(s if len(s) <= 60 else s[:57] + "...")
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return f"a {type(v).__name__}"


_SECRET_KEYS = {"token", "password"}  # values never shown in messages

_SHAPE_HINTS = {
    "roi": "each point is [x, y] in pixels",
    "plate_width_px": "expected [smallest, largest] in pixels",
}


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class whose keys live at `loc` (list indices are skipped; in a union of
    models told apart by `type`, such as a sink, the loc holds the type's value)."""
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int) or not models:
            continue
        tagged = [m for m in models if _type_tag(m) == part]
        if tagged:
            models = tagged
            continue
        field = next((m.model_fields[part] for m in models if part in m.model_fields), None)
        models = _find_models(field.annotation) if field else []
    return models[0] if models else None


def _type_tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _find_models(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in get_args(tp) for m in _find_models(arg)]


def _allowed_keys(root: type[BaseModel], parent: Loc) -> list[str]:
    cls = _model_at(root, parent)
    keys = list(cls.model_fields) if cls else []
    if not parent:  # the file's top level: the `defaults` section merged into cameras
        keys.insert(-1, "defaults")
    return keys


def _message(err: Mapping[str, Any], root: type[BaseModel]) -> str:
    """An operator's wording of one pydantic error."""
    kind, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    got = _show(err.get("input"))
    if field in _SECRET_KEYS:
        got = "a value that is not shown (secret)"
    hint = f" ({_SHAPE_HINTS[field]})" if field in _SHAPE_HINTS else ""
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(root, loc[:-1])
        suggestion = _did_you_mean(key, allowed)
        if suggestion:
            return f"unknown key '{key}'{suggestion}"
        return f"unknown key '{key}' (known keys here: {', '.join(allowed)})"
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return f"missing item: the list is too short{hint}"
        if loc == ("cameras",):
            return "required key is missing (write `cameras: []` to run the web service alone)"
        return "required key is missing"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if "roi" in loc:
            return f"expected a number of pixels, got {got}{hint}"
        return f"expected a whole number, got {got}"
    if kind == "finite_number":
        return f"expected a finite number of seconds, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("string_type", "path_type"):
        return f"expected text, got {got}"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return f"expected a list, got {got}{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys, got {got}"
    if kind == "greater_than":
        return f"must be greater than {_show(ctx.get('gt'))}, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {_show(ctx.get('ge'))}, got {got}"
    if kind == "less_than":
        return f"must be less than {_show(ctx.get('lt'))}, got {got}"
    if kind == "less_than_equal":
        return f"must be at most {_show(ctx.get('le'))}, got {got}"
    if kind == "too_short":
        if ctx.get("actual_length") == 0:
            return "must not be empty"
        return f"too few items: at least {ctx.get('min_length')}, got {ctx.get('actual_length')}"
    if kind == "too_long":
        return (
            f"too many items: at most {ctx.get('max_length')}, got "
            f"{ctx.get('actual_length')}{hint}"
        )
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        suggestion = _did_you_mean(str(err.get("input")), choices) if choices else ""
        return f"must be one of {', '.join(choices)}, got {got}{suggestion}"
    return str(err["msg"])


# --------------------------------------------------------------------------- YAML


class _Yaml:
    """A YAML document with the line of every key path and the keys given twice."""

    def __init__(self, text: str):
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int, int]] = []  # path, line, first line
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                self._walk(node)  # before construction, which flattens merge keys (<<) in place
            self.data: Any = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()

    def _walk(self, root: yaml.Node) -> None:
        """Visits each node once, in document order and without recursion: nodes shared
        by aliases (an alias bomb, a recursive alias) are not walked again."""
        visited: set[int] = set()
        todo: list[tuple[yaml.Node, Loc]] = [(root, ())]
        while todo:
            node, path = todo.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            self.lines.setdefault(path, node.start_mark.line + 1)
            children: list[tuple[yaml.Node, Loc]] = []
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for key_node, value_node in node.value:
                    # Keys merged in by `<<` may be overridden: they are not duplicates.
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                        continue
                    key, line = key_node.value, key_node.start_mark.line + 1
                    if key in seen:
                        self.duplicates.append((path + (key,), line, seen[key]))
                    seen[key] = line
                    self.lines[path + (key,)] = line
                    children.append((value_node, path + (key,)))
            elif isinstance(node, yaml.SequenceNode):
                children = [(item, path + (i,)) for i, item in enumerate(node.value)]
            todo += reversed(children)

    def line(self, loc: Loc) -> int | None:
        """The line of `loc`, else of its nearest parent (not the document's first line)."""
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None


