"""Order-dependent: the second test fails when it shares a process with the first."""

import os

import planted


def test_pollutes_the_environment() -> None:
    os.environ["PLANTED_POLLUTED"] = "1"  # never cleaned up: the bug


def test_victim_of_the_polluted_environment() -> None:
    if not planted.control("fixed-order"):
        assert "PLANTED_POLLUTED" not in os.environ, "a test before me left PLANTED_POLLUTED"
