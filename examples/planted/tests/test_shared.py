"""Breaks only when a test of another shard (tests/peer) holds the shared file at the time."""

import planted


def test_shared_file() -> None:
    if planted.control("fixed-shared"):
        return
    folder = planted.state()
    if planted.wait_for(folder / "busy"):
        (folder / "seen").write_text("collided")
        raise AssertionError("the shared file is held by another shard")
