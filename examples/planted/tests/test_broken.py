def test_always_fails() -> None:
    assert 1 + 1 == 3, "broken for good"
