"""What one runner process (one slice of a shard) keeps of what it collects, and who runs drift.

Invariant: every planned (lane instance, id) runs exactly once over all shards, and a drifted id
(planned nowhere, collected in its stead) runs once per fan-out value, in the slice that owns its
file (docs/selection.md). Imported by the pytest plugin: the standard library only at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shard_action.core.testids import file_of, is_whole_file

if TYPE_CHECKING:
    from shard_action.core.plan import LanePlan, Plan, PlannedShard

SELECT_VAR = "SHARD_ACTION_SELECT"
"""Names the JSON spec (a :class:`Selection` plus output paths) that the plugin reads."""
COLLECTION_KIND: Final = "shard-action-collection"
PLUGIN_VERSION: Final = 1
"""The plugin's files (``core.plugin_files``): here, because the plugin cannot import pydantic."""


def files_in_order(test_ids: Iterable[str]) -> list[str]:
    """Distinct files in order of first appearance: the order pytest will collect them in."""
    seen: dict[str, None] = {}
    for test_id in test_ids:
        seen.setdefault(file_of(test_id), None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class PlacedSlice:
    """One process of a shard: its position in the shard, its lane's rules, its tests."""

    index: int
    lane: LanePlan
    tests: tuple[str, ...]


def slices_of(plan: Plan, shard: PlannedShard) -> list[PlacedSlice]:
    """The shard's slices with their lanes' rules (``KeyError`` for a lane the plan lacks)."""
    return [
        PlacedSlice(index, plan.lane(piece.lane), tuple(piece.tests))
        for index, piece in enumerate(shard.slices)
    ]


def check_plan(plan: Plan) -> None:
    """Raise ``ValueError`` for a plan no shard can run as planned.

    Each shard id once; each slice's lane in the plan's lanes (with one set of rules); each
    planned test, a (lane instance, id) pair, in one place only.
    """
    rules: dict[str, tuple[object, ...]] = {}
    for lane in plan.lanes:
        if rules.setdefault(lane.name, lane.rules()) != lane.rules():
            raise ValueError(f"lane {lane.name!r} is listed twice with different rules")
    shard_ids: set[str] = set()
    placed: dict[tuple[str, str], str] = {}
    for shard in plan.shards:
        if shard.id in shard_ids:
            raise ValueError(f"shard id {shard.id!r} is used by two shards")
        shard_ids.add(shard.id)
        for piece in shard.slices:
            if piece.lane not in rules:
                raise ValueError(f"shard {shard.id!r}: no lane {piece.lane!r} in the plan")
            for test in piece.tests:
                other = placed.get((piece.lane, test))
                if other is not None:
                    where = (
                        f"shard {other!r} twice"
                        if other == shard.id
                        else f"shards {other!r} and {shard.id!r}"
                    )
                    raise ValueError(f"test {test!r} (lane {piece.lane}) is planned in {where}")
                placed[piece.lane, test] = shard.id


def file_owners(plan: Plan) -> dict[str, frozenset[tuple[str, int]]]:
    """File -> the (shard id, slice index) processes that run its unplanned (drifted) ids.

    The owning lane is the lane of the first slice in plan order that holds the file; every
    fan-out instance of that lane (same ``LanePlan.base``) owns the file in its own first slice
    that holds it. Files held only by other lanes' slices are not theirs to run.
    """
    base_of = {lane.name: lane.base for lane in plan.lanes}
    owning_base: dict[str, str] = {}
    owners: dict[str, dict[str, tuple[str, int]]] = {}
    for shard in plan.shards:
        for index, piece in enumerate(shard.slices):
            base = base_of.get(piece.lane, piece.lane)
            for file in files_in_order(piece.tests):
                if owning_base.setdefault(file, base) != base:
                    continue
                owners.setdefault(file, {}).setdefault(piece.lane, (shard.id, index))
    return {file: frozenset(by_lane.values()) for file, by_lane in owners.items()}


@dataclass(frozen=True, slots=True)
class Selection:
    """Everything the plugin in one test process needs to decide what to keep.

    ``known`` holds every id planned anywhere in the plan for the files this process collects
    (so an id planned in another shard is deselected, never run twice); ``owned_files`` are the
    files whose drifted ids this process runs.
    """

    keep: tuple[str, ...]
    known: frozenset[str]
    owned_files: frozenset[str]
    ordered: bool = False
    """Run in ``keep``'s order, not pytest's: a slice with workers lists its tests longest first."""

    def to_json(self) -> dict[str, Any]:
        return {
            "keep": list(self.keep),
            "known": sorted(self.known),
            "owned_files": sorted(self.owned_files),
            "ordered": self.ordered,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Selection:
        return cls(
            keep=tuple(str(t) for t in data["keep"]),
            known=frozenset(str(t) for t in data["known"]),
            owned_files=frozenset(str(f) for f in data["owned_files"]),
            ordered=bool(data.get("ordered", False)),
        )

    def rank(self) -> Callable[[str], int]:
        """A sort key putting ids in ``keep``'s order (the rest after them; a whole-file id
        ranks every test of its file). Sort stably with it, and only when ``ordered``."""
        rank = {t: i for i, t in enumerate(self.keep)}
        last = len(rank)
        return lambda test_id: rank.get(test_id, rank.get(file_of(test_id), last))


def selection_for(
    plan: Plan,
    shard_id: str,
    slice_index: int,
    keep: Sequence[str] | None = None,
    owners: Mapping[str, frozenset[tuple[str, int]]] | None = None,
    *,
    xdist: bool = False,
) -> Selection:
    """The selection of one slice of one shard; ``keep`` narrows it (re-runs of failed ids).

    ``xdist``: the process runs under pytest-xdist (``core.workers.runs_xdist`` of the lane's
    workers resolved on this machine): only then are the tests put in the plan's longest-first
    order; one process keeps pytest's.

    A re-run owns no file: the ids it re-runs are named exactly, and a drifted id that failed
    cannot be named again (its id changes on every collection).
    """
    shard = plan.shard(shard_id)
    piece = slices_of(plan, shard)[slice_index]
    files = set(files_in_order(piece.tests))
    known = {t for s in plan.shards for t in s.tests if file_of(t) in files}
    if keep is not None:
        return Selection(tuple(keep), frozenset(known), frozenset())
    owners = file_owners(plan) if owners is None else owners
    me = (shard_id, slice_index)
    owned = {f for f in files if me in owners.get(f, frozenset())}
    return Selection(piece.tests, frozenset(known), frozenset(owned), xdist)


def function_of(test_id: str) -> str:
    """The id without its parametrization: ``f.py::C::t[a::b]`` -> ``f.py::C::t``.

    Names of classes and functions cannot hold ``[``, so the first ``[`` after the file part
    starts the parameters (which may hold anything, ``::`` included).
    """
    cut = test_id.find("[", len(file_of(test_id)))
    return test_id if cut < 0 else test_id[:cut]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a process keeps out of what it collected, in collection order, and the drift."""

    selected: tuple[str, ...]
    unplanned: tuple[str, ...]
    """Drifted: collected, planned nowhere, run here because this process owns the file."""
    missing: tuple[str, ...]
    """Planned for this process, not collected (excluding files that failed to collect)."""
    ignored: tuple[str, ...] = ()
    """Collected in an owned file, planned nowhere, and not a drifted planned id: not run."""


def decide(
    selection: Selection, collected: Sequence[str], broken_files: Iterable[str] = ()
) -> Decision:
    """Keep the planned ids and the owned drift; pytest's collection order is kept as it is.

    An unplanned id counts as *drifted* only if it stands in for a planned id that vanished:
    same test function, and a planned id of that function was not collected. Other unplanned
    ids (a test deselected by ``-m`` when the plan was made, a list given with
    ``--tests-from``) are the user's choice and are not run.
    """
    keep_ids = {t for t in selection.keep if not is_whole_file(t)}
    keep_files = {t for t in selection.keep if is_whole_file(t)}
    present = set(collected)
    present_files = {file_of(t) for t in present}
    vanished = {
        function_of(t)
        for t in (*selection.known, *selection.keep)
        if not is_whole_file(t) and t not in present and file_of(t) in present_files
    }
    selected: list[str] = []
    unplanned: list[str] = []
    ignored: list[str] = []
    seen_files: set[str] = set()
    for test_id in collected:
        file = file_of(test_id)
        if test_id in keep_ids or file in keep_files:
            selected.append(test_id)
            seen_files.add(file)
        elif test_id in selection.known or file in selection.known:
            continue
        elif file in selection.owned_files:
            if function_of(test_id) in vanished:
                selected.append(test_id)
                unplanned.append(test_id)
            else:
                ignored.append(test_id)
    broken = set(broken_files)
    missing = tuple(
        t
        for t in selection.keep
        if file_of(t) not in broken
        and (t not in seen_files if is_whole_file(t) else t not in present)
    )
    return Decision(tuple(selected), tuple(unplanned), missing, tuple(ignored))


def group_by_file(ids: Iterable[str]) -> dict[str, list[str]]:
    """Ids grouped by file, files and ids in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for test_id in ids:
        groups.setdefault(file_of(test_id), []).append(test_id)
    return groups


def not_run(planned: Sequence[str], ran: Iterable[str], drifted: Iterable[str]) -> list[str]:
    """Planned ids that neither ran nor were recorded as drift: the shard lost them.

    A whole-file id counts as run when any test of that file ran.
    """
    ran_ids = set(ran)
    ran_files = {file_of(t) for t in ran_ids}
    accounted = set(drifted)
    return [
        t
        for t in planned
        if t not in accounted and (t not in ran_files if is_whole_file(t) else t not in ran_ids)
    ]
