"""Every test here needs the service; with the control word "outage" it is down."""

import pytest

import planted


@pytest.fixture
def service() -> str:
    if planted.control("outage"):
        raise ConnectionError("service down: connection refused on port 5432")
    return "up"


@pytest.mark.parametrize("n", range(5))
def test_uses_the_service(service: str, n: int) -> None:
    assert service == "up"
