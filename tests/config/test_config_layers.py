"""Config layering and error messages, through real files in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shard_action.adapters.config_file import load_config
from shard_action.cli import main
from shard_action.commands.schema import render
from shard_action.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path, env={})
    assert config.shards == "auto"
    assert config.max_shards == 32
    assert config.lanes == []


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[tool.shard-action]\nshards = 4\nshard-overhead = 12.5\n'
        '[[tool.shard-action.lanes]]\nname = "db"\nmarkers = ["db"]\nbackends = ["sqlite", "pg"]\n',
    )
    config = load_config(cwd=tmp_path, env={})
    assert config.shards == 4
    assert config.shard_overhead == 12.5
    assert config.lanes[0].backends == ["sqlite", "pg"]


def test_pyproject_without_table_gives_defaults(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(cwd=tmp_path, env={}).shards == "auto"


def test_precedence_file_then_env_then_flag(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.shard-action]\nshards = 4\nmax-shards = 10\n")
    env = {"SHARD_ACTION_SHARDS": "6", "SHARD_ACTION_MAX_SHARDS": "12"}
    config = load_config(cwd=tmp_path, env=env, flags={"shards": 8})
    assert (config.shards, config.max_shards) == (8, 12)
    config = load_config(cwd=tmp_path, env=env, flags={"shards": None})
    assert config.shards == 6


def test_empty_env_value_counts_as_unset(tmp_path: Path) -> None:
    # An Action input left empty reaches us as an empty variable.
    assert load_config(cwd=tmp_path, env={"SHARD_ACTION_SHARDS": ""}).shards == "auto"


def test_env_takes_json_for_lists(tmp_path: Path) -> None:
    env = {"SHARD_ACTION_LANES": '[{"name": "slow", "markers": ["slow"], "mode": "sequential"}]'}
    config = load_config(cwd=tmp_path, env=env)
    assert config.lanes[0].mode == "sequential"


def test_config_file_replaces_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.shard-action]\nshards = 4\n")
    write(tmp_path / "ci.toml", "shards = 3\n")
    assert load_config(cwd=tmp_path, config_path=Path("ci.toml"), env={}).shards == 3


def test_yaml_config(tmp_path: Path) -> None:
    write(
        tmp_path / "shard.yml",
        "shards: auto\nlanes:\n  - name: serial-only\n    paths: ['tests/e2e/**']\n"
        "    mode: sequential\n    env: {PORT: '8080'}\n",
    )
    config = load_config(cwd=tmp_path, config_path=tmp_path / "shard.yml", env={})
    assert config.lanes[0].env == {"PORT": "8080"}


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("max-shards = 300\n", "max-shards", "less than or equal to 256"),
        ('shards = "lots"\n', "shards", "'auto'"),
        ("bogus = 1\n", "bogus", "unknown key"),
        ("max-shard = 4\n", "max-shard", "unknown key; did you mean 'max-shards'?"),
        ("flaky_treshold = 0.1\n", "flaky-treshold", "did you mean 'flaky-threshold'?"),
        ('[[lanes]]\nname = "a"\nmarker = ["x"]\n', "lanes.0.marker", "mean 'markers'?"),
        ('granularity = "files"\n', "granularity", "'test' or 'file'"),
        ('[[lanes]]\nname = "a"\nmode = "weird"\n', "lanes.0.mode", "'sequential'"),
        ('[[lanes]]\nname = "a"\nids = ["("]\n', "lanes.0.ids", "invalid regular expression"),
        ('[[lanes]]\nname = "bad name"\n', "lanes.0.name", "pattern"),
        ("flaky-threshold = nan\n", "flaky-threshold", "finite"),
        (
            '[[lanes]]\nname = "a"\nsequential = true\n',
            "lanes.0.sequential",
            'unknown key; did you mean mode = "sequential"?',
        ),
        ("serial = true\n", "serial", 'did you mean mode = "serial"?'),
    ],
)
def test_bad_value_names_key_and_file(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    write(tmp_path / "ci.toml", text)
    with pytest.raises(InputError) as info:
        load_config(cwd=tmp_path, config_path=Path("ci.toml"), env={})
    message = str(info.value)
    assert f"{key} (from ci.toml)" in message
    assert fragment in message


def test_an_unknown_key_far_from_every_key_gets_no_guess(tmp_path: Path) -> None:
    write(tmp_path / "ci.yml", "zzzzqq: 1\n")
    with pytest.raises(InputError) as info:
        load_config(cwd=tmp_path, config_path=Path("ci.yml"), env={})
    assert "zzzzqq (from ci.yml): unknown key" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_a_mistyped_key_in_pyproject_gets_the_closest_one(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.shard-action]\nshard-overhed = 5\n")
    with pytest.raises(InputError) as info:
        load_config(cwd=tmp_path, env={})
    assert "shard-overhed (from" in str(info.value)
    assert "did you mean 'shard-overhead'?" in str(info.value)


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="environment variable SHARD_ACTION_MAX_SHARDS"):
        load_config(cwd=tmp_path, env={"SHARD_ACTION_MAX_SHARDS": "many"})


def test_bad_flag_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="option --max-shards"):
        load_config(cwd=tmp_path, env={}, flags={"max-shards": 0})


def test_duplicate_lane_names_rejected(tmp_path: Path) -> None:
    write(tmp_path / "c.toml", '[[lanes]]\nname = "a"\n[[lanes]]\nname = "a"\n')
    with pytest.raises(InputError, match="used twice"):
        load_config(cwd=tmp_path, config_path=Path("c.toml"), env={})


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("c.toml", "shards = [\n", "not valid TOML"),
        ("c.yaml", "shards: [1,\n  - 2\n", "not valid YAML"),
        ("c.yaml", "- 1\n- 2\n", "table of settings"),
    ],
)
def test_unparsable_file_is_named(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    write(tmp_path / name, text)
    with pytest.raises(InputError, match=fragment) as info:
        load_config(cwd=tmp_path, config_path=Path(name), env={})
    assert name in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="config file not found"):
        load_config(cwd=tmp_path, config_path=Path("nope.toml"), env={})


def test_schema_command_prints_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "max-shards" in document["properties"]
    assert document["properties"]["max-shards"]["maximum"] == 256
    assert document["additionalProperties"] is False


def test_committed_schema_is_current() -> None:
    committed = (REPO / "docs" / "config.schema.json").read_text(encoding="utf-8")
    assert committed == render("config"), "run: shard-action schema > docs/config.schema.json"
