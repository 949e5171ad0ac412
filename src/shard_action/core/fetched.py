"""``fetch-history.json``: what ``fetch-history`` found, carried to the report job in the plan
artifact so that a run that could not *read* the history does not *replace* it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from shard_action.core.documents import Document

FetchStatus = Literal["found", "none", "unusable", "error"]


class FetchedHistory(Document):
    model_config = ConfigDict(frozen=True)
    kind: Literal["shard-action-fetch-history"] = "shard-action-fetch-history"
    version: Literal[1] = 1
    title: ClassVar[str] = "fetch-history record"
    status: FetchStatus = Field(
        description="`found`; `none`: no history yet; `unusable`: set aside (the next trusted "
        "report starts a new one); `error`: the API failed or the search hit its limit, so the "
        "report must not replace the history."
    )
    reason: str
    history: str | None = Field(None, description="The history file unpacked, when found.")
    run_id: int | None = Field(None, description="The workflow run that uploaded it.")
    artifact_id: int | None = None
