"""Truly random (flaky on its own), made repeatable: attempt k of the whole drive fails when
Random(f"{seed}:{k}") says so, the attempt counter kept in the state folder."""

import os
import random

import planted


def test_random_coin() -> None:
    counter = planted.state() / "random.count"
    attempt = int(counter.read_text()) + 1 if counter.is_file() else 1
    counter.write_text(str(attempt))
    seed = os.environ.get("PLANTED_SEED", "10")
    assert random.Random(f"{seed}:{attempt}").random() >= 0.5, f"unlucky attempt {attempt}"
