"""The quarantine file's rules: what a valid entry is, when it expires, and the suggested block
(which must read back, through tomllib and our own parser, as the entries it was made from)."""

from __future__ import annotations

import sys
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.quarantine import (
    Quarantine,
    QuarantineError,
    Suggestion,
    expiry_error,
    fit_block,
    parse,
    suggestion_block,
    toml_string,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

GOOD = {
    "test": "tests/test_net.py::test_fetch",
    "owner": "@alice",
    "reason": "times out on shared runners",
    "expires": date(2026, 12, 31),
}
TODAY = date(2026, 12, 2)


def test_a_valid_file_reads_as_its_entries() -> None:
    text = """
[[quarantine]]
test = "tests/test_net.py::test_fetch"
owner = "@alice"
reason = "times out"
expires = 2026-12-31

[[quarantine]]
test = "tests/test_db.py::test_pool"
owner = "team-db"
reason = "pool exhaustion"
expires = "2027-01-15"
lane = "postgres"
"""
    entries = parse(tomllib.loads(text))
    assert [(e.test, e.owner, e.expires, e.lane) for e in entries] == [
        ("tests/test_net.py::test_fetch", "@alice", date(2026, 12, 31), None),
        ("tests/test_db.py::test_pool", "team-db", date(2027, 1, 15), "postgres"),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({k: v for k, v in GOOD.items() if k != "owner"}, "owner: Field required"),
        ({**GOOD, "expires": "next week"}, "expires: Input should be a valid date"),
        ({**GOOD, "owner": "  "}, "owner: Value error, must not be blank"),
        ({**GOOD, "expiry": "2026-12-31"}, "expiry: Extra inputs are not permitted"),
    ],
)
def test_a_bad_entry_is_named_by_position_test_and_key(
    entry: dict[str, object], expected: str
) -> None:
    with pytest.raises(QuarantineError) as caught:
        parse({"quarantine": [{**GOOD, "test": "tests/ok.py::t"}, entry]})
    assert f"entry 2 ('tests/test_net.py::test_fetch'): {expected}" in str(caught.value)


def test_an_unknown_top_level_key_and_a_test_listed_twice_are_errors() -> None:
    with pytest.raises(QuarantineError, match=r"tests: unknown key \(expected \[\[quarantine\]\]"):
        parse({"tests": []})
    with pytest.raises(QuarantineError, match=r"entry 2 .* listed twice"):
        parse({"quarantine": [GOOD, GOOD]})
    # the same test in two lanes is two entries, not a repeat
    two_lanes = [{**GOOD, "lane": "postgres"}, {**GOOD, "lane": "sqlite"}]
    assert len(parse({"quarantine": two_lanes})) == 2


def test_an_entry_for_every_lane_beside_one_for_a_lane_is_ambiguous_naming_both() -> None:
    for entries in ([GOOD, {**GOOD, "lane": "sqlite"}], [{**GOOD, "lane": "sqlite"}, GOOD]):
        with pytest.raises(QuarantineError) as caught:
            parse({"quarantine": [{**GOOD, "test": "tests/ok.py::t"}, *entries]})
        message = str(caught.value)
        assert message.startswith("entries 2 and 3 ('tests/test_net.py::test_fetch')"), message
        assert "lane 'sqlite'" in message and "ambiguous" in message


def test_an_entry_holds_through_its_last_day_and_then_expires_naming_test_and_owner() -> None:
    entries = parse({"quarantine": [GOOD]})
    assert expiry_error(entries, date(2026, 12, 31)) is None
    message = expiry_error(entries, date(2027, 1, 1))
    assert message is not None
    assert "1 quarantine entry expired (today is 2027-01-01)" in message
    assert "'tests/test_net.py::test_fetch' (owner @alice) expired on 2026-12-31" in message


def test_covers_matches_the_id_and_the_lane_instance_or_its_base() -> None:
    quarantine = Quarantine(
        entries=parse({"quarantine": [GOOD, {**GOOD, "test": "tests/t.py::x", "lane": "db"}]})
    )
    assert quarantine.covers(GOOD["test"], "anything") is not None  # type: ignore[arg-type]
    assert quarantine.covers("tests/t.py::x", "db-sqlite", "db") is not None
    assert quarantine.covers("tests/t.py::x", "default", "default") is None
    assert quarantine.covers("tests/t.py::y", "db", "db") is None


def test_an_entry_for_a_lane_instance_follows_its_test_into_the_demoted_lane() -> None:
    """A demoted test runs in ``{lane}.demoted`` (core/lanes.py); its quarantine still holds."""
    entry = {**GOOD, "test": "tests/t.py::x", "lane": "db-sqlite"}
    quarantine = Quarantine(entries=parse({"quarantine": [entry]}))
    assert quarantine.covers("tests/t.py::x", "db-sqlite.demoted", "db") is not None
    assert quarantine.covers("tests/t.py::x", "db-sqlite.demoted", None) is not None
    assert quarantine.covers("tests/t.py::x", "db-postgres.demoted", "db") is None


@given(st.text())
def test_toml_string_reads_back_as_the_same_text(text: str) -> None:
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


ids = st.text(min_size=1).filter(lambda t: t.strip() != "")


@given(st.lists(st.tuples(ids, ids), min_size=1, max_size=5, unique_by=lambda p: p[0]))
def test_the_suggested_block_parses_back_as_the_suggested_entries(
    pairs: list[tuple[str, str]],
) -> None:
    suggestions = [Suggestion(test, "default", reason) for test, reason in pairs]
    block = suggestion_block(suggestions, TODAY, lanes=True)
    entries = parse(tomllib.loads(block))
    assert [(e.test, e.reason, e.lane) for e in entries] == [(t, r, "default") for t, r in pairs]
    assert {e.expires for e in entries} == {date(2027, 1, 1)}  # 30 days on
    assert expiry_error(entries, TODAY) is None


def test_no_suggestion_is_an_empty_block() -> None:
    assert suggestion_block([], TODAY, lanes=False) == ""


def test_a_long_suggested_block_is_cut_at_whole_entries_saying_how_many_more() -> None:
    suggestions = [Suggestion(f"tests/t.py::test_{n}", "default", "flaky") for n in range(15)]
    block = suggestion_block(suggestions, TODAY, lanes=True)
    assert len(block.splitlines()) > 60  # 15 tables of 6 lines and the blank lines between
    shown, more = fit_block(block, 60)
    assert len(shown.splitlines()) <= 60
    pasted = tomllib.loads(shown)["quarantine"]
    assert [e["test"] for e in pasted] == [f"tests/t.py::test_{n}" for n in range(8)]
    assert all(set(e) == {"test", "owner", "reason", "expires", "lane"} for e in pasted)
    assert more == 7
    assert fit_block(block, 1000) == (block.strip("\n"), 0)
