"""The inputs of the resolver oracle (``test_resolver_oracle.py``): real JUnit cases, and id sets
built from them by rules of this file alone (pytest's naming, written out here), so that a case
meets exact matches, ties between a module and a class of the same dotted name, missing ids,
whole files and both at once."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from shard_action.adapters.junit import parse_junit
from shard_action.adapters.timing_files import read_timings
from shard_action.errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data"
Case = tuple[str | None, str, str | None]
"""(classname, name, file) as a report gives them."""


def corpus_reports() -> Iterator[tuple[str, list[Case]]]:
    """Every parseable report of the JUnit corpus, with its cases in document order."""
    root = DATA / "junit"
    for path in sorted(root.rglob("*.xml")):
        try:
            parsed = parse_junit(path)
        except InputError:
            continue
        cases = [(c.classname, c.name, c.file) for c in parsed.report.cases]
        if cases:
            yield str(path.relative_to(root)), cases


def timing_reports() -> Iterator[tuple[str, list[Case], list[str]]]:
    """The real pytest suites of ``tests/data/timings``: JUnit cases and the collected ids."""
    root = DATA / "timings"
    for project in sorted(p for p in root.iterdir() if p.is_dir()):
        read = read_timings([str(project / "junit.xml.gz")])
        cases = [(o.classname, o.name, o.file) for o in read.observations]
        lines = gzip.decompress((project / "collect.txt.gz").read_bytes()).decode().splitlines()
        ids = [line for line in lines if "::" in line]
        yield project.name, cases, ids


def _slashed(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def id_sets(cases: list[Case]) -> dict[str, list[str]]:
    """Node ids and whole-file ids a suite could have had for these cases (every third left out).

    ``nodes``: ``file::Class::name`` from pytest's rule (classname = dotted module + classes)
    when the case has a ``file`` whose module starts its classname; otherwise the classname read
    as a module path (``a/b/C.py::name``) and, as a rival, its last part as a class
    (``a/b.py::C::name``). ``files``: each case's ``file`` and the module paths of its classname.
    """
    nodes: dict[str, None] = {}
    files: dict[str, None] = {}
    for classname, name, file in cases:
        parts = classname.split(".") if classname else []
        if file:
            path = _slashed(file)
            files[path] = None
            module = path.removesuffix(".py").replace("/", ".")
            if classname and (classname == module or classname.startswith(module + ".")):
                classes = classname[len(module) + 1 :].split(".") if classname != module else []
                nodes["::".join([path, *classes, name])] = None
                continue
        if parts:
            nodes["/".join(parts) + ".py::" + name] = None
            files["/".join(parts) + ".py"] = None
            if len(parts) > 1:
                nodes["/".join(parts[:-1]) + ".py::" + parts[-1] + "::" + name] = None
                files["/".join(parts[:-1]) + ".py"] = None
    keep_nodes = [i for n, i in enumerate(nodes) if n % 3 != 2]
    # a whole file has no "::" (a classname such as Rust's ``crate::module`` would make one)
    keep_files = [i for n, i in enumerate(f for f in files if "::" not in f) if n % 3 != 2]
    return {"nodes": keep_nodes, "files": keep_files, "both": keep_nodes + keep_files}


WORKDIRS: tuple[str | None, ...] = (None, "/home/runner/work/repo")
