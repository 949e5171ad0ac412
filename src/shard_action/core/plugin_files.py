"""The files between ``shard-action run`` and its pytest plugin: ``select.json`` (what to keep),
``collection.json`` (what it kept) and ``events.jsonl`` (one line per test event).

The plugin (``pytest_select``) runs in the project's interpreter with the standard library only,
so it writes and reads these as plain JSON; these models are the runner's side and the schema
(``shard-action schema select|collection|event``). A test checks the plugin's real files fit.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from shard_action.core.documents import Document, Frozen
from shard_action.core.outcomes import Outcome
from shard_action.core.selection import COLLECTION_KIND, PLUGIN_VERSION, Selection

SELECT_KIND: Final = "shard-action-select"


class SelectFile(Document):
    """``select.json``: a :class:`~shard_action.core.selection.Selection` and where to write."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["shard-action-select"] = SELECT_KIND
    version: Literal[1] = PLUGIN_VERSION
    title: ClassVar[str] = "selection for the pytest plugin"
    keep: list[str] = Field(description="The ids (or whole files) this process runs, in order.")
    known: list[str] = Field(description="Every id planned anywhere for these files.")
    owned_files: list[str] = Field(description="Files whose drifted ids this process runs.")
    ordered: bool = Field(False, description="Run in `keep`'s order (workers: longest first).")
    collection: str = Field(description="Where to write `collection.json`.")
    events: str = Field(description="Where to append `events.jsonl`.")
    memory_mb: int | None = Field(None, description="The cap: a MemoryError stops the process.")
    worker_coverage: str | None = Field(
        None, description="Coverage data file of each xdist worker (with workers and coverage)."
    )

    @classmethod
    def of(cls, selection: Selection, **where: object) -> SelectFile:
        return cls.model_validate({**selection.to_json(), **where})


class CollectError(Frozen):
    node: str = Field(description="The collector that failed (`` for the rootdir).")
    message: str = Field(description="The end of its report (at most 4000 characters).")


class CollectionClock(Frozen):
    configured: float = Field(description="Wall clock (epoch seconds) of our plugin's configure.")
    collected: float = Field(description="Wall clock when collection was done.")


class CollectionFile(Document):
    """``collection.json``: what one process kept, right after collection (one per xdist
    worker, suffixed with its id)."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["shard-action-collection"] = COLLECTION_KIND
    version: Literal[1] = PLUGIN_VERSION
    title: ClassVar[str] = "collection report of the pytest plugin"
    collected: int = Field(ge=0, description="Items left after pytest's own filters.")
    selected: list[str] = Field(description="Kept, in the order they run.")
    unplanned: list[str] = Field(description="Drifted ids run here (this process owns the file).")
    missing: list[str] = Field(description="Planned here, not collected.")
    ignored: list[str] = Field(default_factory=list, description="Unplanned, not drift: not run.")
    errors: list[CollectError] = Field(default_factory=list)
    coverage_core: str | None = Field(None, description="The coverage.py core measuring it.")
    clock: CollectionClock | None = Field(None, description="When configure and collection ended.")
    files: dict[str, float] = Field(
        default_factory=dict, description="Collection seconds per test file (import, items)."
    )


class StartEvent(Frozen):
    event: Literal["start"]
    id: str


class ResultEvent(Frozen):
    event: Literal["result"]
    id: str
    outcome: Outcome
    seconds: float = Field(ge=0, description="Set-up, call and teardown together.")
    setup: float | None = Field(None, ge=0, description="The set-up phase alone.")
    teardown: float | None = Field(None, ge=0, description="The teardown phase alone.")
    shared: float | None = Field(
        None, ge=0, description="Of the set-up: session and package fixtures (`core.fixtures`)."
    )


class MemoryErrorEvent(Frozen):
    event: Literal["memory_error"]
    id: str


class ClockEvent(Frozen):
    """The last line, at session end: wall clock (epoch seconds) of configure, the first test's
    start, the last test's end and the session's end (the runner splits the process by them)."""

    event: Literal["clock"]
    configured: float
    first: float
    last: float
    end: float


Event = Annotated[
    StartEvent | ResultEvent | MemoryErrorEvent | ClockEvent, Field(discriminator="event")
]
"""One line of ``events.jsonl``, appended and flushed as tests run."""

EVENT: Final[TypeAdapter[StartEvent | ResultEvent | MemoryErrorEvent | ClockEvent]] = TypeAdapter(
    Event
)
