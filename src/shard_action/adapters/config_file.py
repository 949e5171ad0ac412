"""Where the configuration comes from: files, environment and flags, layered.

Precedence, lowest first: ``[tool.shard-action]`` in ``pyproject.toml`` (only when no ``--config``
is given), the ``--config`` file (TOML or YAML), ``SHARD_ACTION_<FIELD>`` environment variables,
then command-line flags. CI changes the shard count through a variable, without editing files.

Every value remembers the layer it came from, so a validation error names the key *and* the file
(or variable, or flag) that set it: "max-shards in ci/shards.toml: must be at most 256" is
something a user can fix; a pydantic traceback is not.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from shard_action.core.config import Config
from shard_action.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_PREFIX = "SHARD_ACTION_"
TABLE = ("tool", "shard-action")


@dataclass
class Layers:
    """The raw values of every layer and, per top-level key, the name of the layer that set it."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)

    def add(self, values: Mapping[str, Any], origin: str) -> None:
        for key, value in values.items():
            canonical = _canonical(key)
            self.values[canonical] = value
            self.origin[canonical] = origin


def _canonical(key: str) -> str:
    return key.replace("_", "-")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        raise InputError(f"not valid YAML: {exc}", source=str(path), line=line) from exc


def _table(data: Any, path: Path, *, pyproject: bool) -> dict[str, Any]:
    """The ``[tool.shard-action]`` table of a file, or the whole file when it has none."""
    if not isinstance(data, dict):
        raise InputError("expected a table of settings at the top level", source=str(path))
    tool = data.get("tool")
    if isinstance(tool, dict) and TABLE[1] in tool:
        table = tool[TABLE[1]]
    elif pyproject:
        return {}
    else:
        table = data
    if not isinstance(table, dict):
        raise InputError("[tool.shard-action] must be a table", source=str(path))
    return dict(table)


def file_settings(path: Path) -> dict[str, Any]:
    """The settings a config file holds (TOML by default, YAML for ``.yml``/``.yaml``)."""
    if not path.is_file():
        raise InputError("config file not found", source=str(path))
    if path.suffix.lower() in {".yml", ".yaml"}:
        return _table(_read_yaml(path), path, pyproject=False)
    return _table(_read_toml(path), path, pyproject=path.name == "pyproject.toml")


def text_value(raw: str) -> Any:
    """Variables and flags hold strings; lists and tables are written as JSON (``[...]``)."""
    text = raw.strip()
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def env_settings(env: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """``SHARD_ACTION_MAX_SHARDS=8`` → ``{"max-shards": ("SHARD_ACTION_MAX_SHARDS", "8")}``.

    Only names of real fields are taken (others, such as ``SHARD_ACTION_TOKEN``, belong to other
    parts of the program); an empty value counts as unset, which is what an unset Action input
    looks like once it has passed through ``env:``.
    """
    found: dict[str, tuple[str, Any]] = {}
    for name in Config.model_fields:
        var = ENV_PREFIX + name.upper()
        raw = env.get(var)
        if raw is not None and raw.strip() != "":
            found[_canonical(name)] = (var, text_value(raw))
    return found


_TYPE_TAGS = frozenset({"int", "float", "str", "bool", "constrained-int", "constrained-float"})


def _key(loc: Sequence[Any]) -> str:
    """``("shards", "literal['auto']")`` → ``shards``: union member tags are not keys."""
    parts = [
        str(part)
        for part in loc
        if isinstance(part, int)
        or (str(part) not in _TYPE_TAGS and not any(c in str(part) for c in "[]('\""))
    ]
    return ".".join(parts) if parts else "(top level)"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (``list[LaneConfig] | None`` → LaneConfig)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _suggestion(loc: Sequence[Any]) -> str:
    """``; did you mean 'max-shards'?`` for an unknown key, from the keys valid where it is."""
    models: list[type[BaseModel]] = [Config]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        models = [
            inner
            for model in models
            for name, info in model.model_fields.items()
            if _canonical(name) == _canonical(str(part))
            for inner in _models_in(info.annotation)
        ]
    known = sorted({_canonical(name) for model in models for name in model.model_fields})
    key = _canonical(str(loc[-1])) if loc else ""
    close = difflib.get_close_matches(key, known, n=1) if key else []
    if close:
        return f"; did you mean {close[0]!r}?"
    owner = _field_with_value(models, key)
    return f'; did you mean {owner} = "{key}"?' if owner else ""


def _field_with_value(models: Sequence[type[BaseModel]], value: str) -> str | None:
    """The key whose allowed values include ``value`` (``sequential = true`` → ``mode``)."""
    for model in models:
        for name, info in model.model_fields.items():
            if value in _literal_values(info.annotation):
                return _canonical(name)
    return None


def _literal_values(annotation: Any) -> set[str]:
    """The string values a ``Literal[...]`` (possibly inside a union) allows."""
    if typing.get_origin(annotation) is typing.Literal:
        return {arg for arg in typing.get_args(annotation) if isinstance(arg, str)}
    return {v for arg in typing.get_args(annotation) for v in _literal_values(arg)}


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    """Error messages per key, union alternatives joined, with the offending value shown."""
    found: dict[str, list[str]] = {}
    for error in exc.errors():
        key = _key(error.get("loc", ()))
        if error.get("type") == "extra_forbidden":
            message = "unknown key" + _suggestion(error.get("loc", ()))
        else:
            message = str(error["msg"])
        found.setdefault(key, [])
        if message not in found[key]:
            found[key].append(message)
        if error.get("type") != "extra_forbidden" and "input" in error:
            shown = repr(error["input"])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            if not any(m.startswith("got ") for m in found[key]) and not isinstance(
                error["input"], dict
            ):
                found[key].append(f"got {shown}")
    return found


def load_config(
    *,
    cwd: Path,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    recorded: tuple[Mapping[str, Any], str] | None = None,
) -> Config:
    """Build the :class:`Config` from every layer; an error names the key and where it was set.

    ``recorded`` (values, where from) stands in for the config files: settings a plan already
    read from them, so a later job does not read files that may differ.
    """
    env = os.environ if env is None else env
    layers = Layers()
    if recorded is not None:
        layers.add(recorded[0], recorded[1])
    elif config_path is None:
        pyproject = cwd / "pyproject.toml"
        if pyproject.is_file():
            layers.add(file_settings(pyproject), f"{pyproject} [tool.shard-action]")
    else:
        path = config_path if config_path.is_absolute() else cwd / config_path
        layers.add(file_settings(path), str(config_path))
    for key, (var, value) in env_settings(env).items():
        layers.add({key: value}, f"environment variable {var}")
    for key, value in (flags or {}).items():
        if value is not None:
            layers.add({key: value}, f"option --{_canonical(key)}")
    try:
        return Config.model_validate(layers.values)
    except ValidationError as exc:
        lines = []
        for key, messages in _messages(exc).items():
            where = layers.origin.get(key.split(".", 1)[0], "defaults")
            got = [m for m in messages if m.startswith("got ")]
            rest = [m for m in messages if not m.startswith("got ")]
            lines.append(
                f"{key} (from {where}): {' or '.join(rest)}" + (f"; {got[0]}" if got else "")
            )
        raise InputError("invalid configuration:\n  " + "\n  ".join(lines)) from exc
