"""The bundled ``examples/`` project, sharded by hand and run shard by shard for real.

Lanes as its ``pyproject.toml`` describes them: the storage tests fanned out over two backends
in isolated lanes, the `serial` tests in one sequential shard, the slow tests in their own
lane, the rest in two shards. The planted flaky test is switched on.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import coverage
import pytest

from shard_action.core.manifest import ShardManifest
from tests.runner.helpers import (
    collect_ids,
    copy_examples,
    manifest,
    only_slice,
    run_shard,
    save_plan,
)
from tests.runner.plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow

FLAKY = "tests/test_flaky.py::test_price_table_cache_warms_up"


def test_examples_sharded_run_every_test_once_per_backend(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "examples")
    ids = collect_ids(root, "tests")
    storage = [i for i in ids if i.startswith("tests/storage/")]
    serial = [i for i in ids if i.startswith("tests/serial/")]
    slow = [i for i in ids if i.startswith("tests/test_slow_reconcile.py")]
    rest = [i for i in ids if i not in {*storage, *serial, *slow}]
    assert len(storage) >= 10 and len(serial) >= 5 and len(slow) >= 3 and FLAKY in rest
    built = plan(
        shard("storage-sqlite-1", LaneSlice("storage-sqlite", storage,
                                      env={"INVENTORY_BACKEND": "sqlite"}, timeout=120,
                                      memory_mb=4096)),
        shard("storage-memory-1", LaneSlice("storage-memory", storage,
                                      env={"INVENTORY_BACKEND": "memory"}, timeout=120,
                                      memory_mb=4096)),
        shard("serial-1", LaneSlice("serial", serial, sequential=True,
                              env={"INVENTORY_JOURNAL": "var/journal.log"}, timeout=60)),
        shard("slow-1", LaneSlice("slow", slow, isolated=False, timeout=120)),
        shard("default-1", LaneSlice("default", rest[::2])),
        shard("default-2", LaneSlice("default", rest[1::2])),
        bases={"storage-sqlite": "storage", "storage-memory": "storage"},
        reruns=2,
        coverage=True,
    )  # fmt: skip
    plan_path = save_plan(root, built)
    flaky_dir = tmp_path / "flaky"
    env = {"EXAMPLE_FLAKY_DIR": str(flaky_dir)}

    def one(shard_id: str) -> tuple[int, str, ShardManifest]:
        proc, results = run_shard(root, plan_path, shard_id, env=env)
        return proc.returncode, proc.stdout + proc.stderr, manifest(results)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(one, [s.id for s in built.shards]))
    for code, output, got in done:
        assert code == 0, output
        assert got.failure is None and only_slice(got).drift == []
    manifests = {got.shard: got for _, _, got in done}

    ran = Counter(
        (run.lane, t) for got in manifests.values() for run in got.slices for t in run.tests
    )
    assert ran == Counter({(s.lane, t): 1 for s in built.shards for t in s.tests})
    assert Counter(t for _, t in ran.elements()) == Counter(
        {**dict.fromkeys(ids, 1), **dict.fromkeys(storage, 2)}
    ), "every id once, the storage ids once per backend"
    reruns = [(r.test, r.verdict) for got in manifests.values() for r in only_slice(got).reruns]
    assert reruns == [(FLAKY, "flaky")], "the planted flaky test, and nothing else"
    assert (flaky_dir / "test_price_table_cache_warms_up.failed-once").is_file()
    assert all(
        o == "passed" for got in manifests.values() for o in only_slice(got).outcomes.values()
    )
    assert only_slice(manifests["serial-1"]).tests == serial, "sequential lane in collection order"

    data = coverage.CoverageData(no_disk=True)
    for got in manifests.values():
        (name,) = got.coverage
        part = coverage.CoverageData(basename=str(root / "results" / got.shard / name))
        part.read()
        data.update(part)
    measured = {Path(f).as_posix() for f in data.measured_files()}
    assert "src/inventory/backends/sqlite.py" in measured, "relative_files keeps paths relative"
    assert {f for f in measured if f.startswith("src/inventory/")} == {
        f"src/inventory/{p.relative_to(root / 'src/inventory').as_posix()}"
        for p in (root / "src/inventory").rglob("*.py")
    }
