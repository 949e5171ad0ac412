import planted


def test_holds_the_shared_file() -> None:
    if planted.control("fixed-shared"):
        return
    folder = planted.state()
    (folder / "seen").unlink(missing_ok=True)
    (folder / "busy").write_text("held")
    try:
        planted.wait_for(folder / "seen")  # until the other shard met it, or WAIT seconds
    finally:
        (folder / "busy").unlink(missing_ok=True)
        (folder / "seen").unlink(missing_ok=True)
