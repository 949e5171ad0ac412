"""The status endpoint binds one fixed port per checkout (sequential `serial` lane).

Two processes of the same checkout running these at the same time would fight for the port: the
second bind fails with "address already in use". A sequential lane runs them in one process.
"""

from __future__ import annotations

import time

import pytest

from inventory.status_server import StatusServer, query, status_port

pytestmark = pytest.mark.serial


def test_status_answers_on_the_fixed_port() -> None:
    with StatusServer(lambda: "items=3") as server:
        assert server.port == status_port()
        time.sleep(0.3)  # a deploy check polls for a while
        assert query() == "items=3"
    assert server.served == 1


def test_port_is_exclusive() -> None:
    with StatusServer(lambda: "first"):
        with pytest.raises(OSError), StatusServer(lambda: "second"):
            pass  # pragma: no cover - the bind above fails
        time.sleep(0.3)
        assert query() == "first"


def test_many_clients_in_a_row() -> None:
    answers = iter(range(1000))
    with StatusServer(lambda: f"n={next(answers)}") as server:
        replies = [query() for _ in range(25)]
        time.sleep(0.2)
    assert replies == [f"n={n}" for n in range(25)]
    assert server.served == 25
