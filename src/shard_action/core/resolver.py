"""Which test id a JUnit case stands for: the one resolver of timings, flakiness and the runner.

The classname is split where a known file's dotted module ends and the id rebuilt; it counts only
if it exists. ``file`` settles ties and names whole files, never against the classname (xunit1
writes an inherited test's defining file). ``guesses`` (timings from another checkout) adds
prefix and suffix fallbacks; results never guess. Every rule: ``docs/resolving.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

from shard_action.core.testids import (
    SEPARATOR,
    file_of,
    module_name,
    normalise_path,
    xml_escape,
)

if TYPE_CHECKING:  # the pytest plugins import the core: standard library only at run time
    from shard_action.core.results import CaseResult

MAX_TIES: Final = 64
"""Files sharing one dotted (suffix) name beyond which a classname is too ambiguous to try."""


class Match(NamedTuple):
    """What a case stands for: ``test`` is a known id (a node id or a whole file), or None.

    ``node`` is the test within it (``file::Class::name``; the id itself for a node id), which
    tells the tests of one whole file apart. ``stale``: the classname names a known file, but
    not a test that exists (renamed, or an id holding a timestamp).
    """

    test: str | None
    node: str | None = None
    stale: bool = False


NO_MATCH: Final = Match(None)
STALE: Final = Match(None, stale=True)


class Modules:
    """Files by dotted module name, to split classnames where pytest joined them.

    ``prefixes(classname)`` gives, most specific first, groups of id prefixes
    (``file::Class::Nested``) the classname can stand for; a group holds more than one prefix
    only when several files share a dotted name. Without ``guesses`` only a classname that
    starts with a whole module counts.
    """

    def __init__(self, files: Iterable[str], *, guesses: bool) -> None:
        self.files = set(files)
        self.guesses = guesses
        self._exact: dict[str, list[str]] = {}
        self._suffix: dict[str, list[str]] = {}
        for file in self.files:
            parts = module_name(file).split(".")
            self._exact.setdefault(".".join(parts), []).append(file)
            if guesses:
                for start in range(1, len(parts)):
                    self._suffix.setdefault(".".join(parts[start:]), []).append(file)
        self._roots = {name.partition(".")[0] for name in self._exact}
        self.cache: dict[str, list[list[str]]] = {}
        self._paths: dict[str, list[str]] | None = None

    def prefixes(self, classname: str) -> list[list[str]]:
        found = self.cache.get(classname)
        if found is not None:
            return found
        parts = classname.split(".")
        if not self.guesses or parts[0] in self._roots:
            # Known top-level names are authoritative: no fallback that could charge a
            # deleted module's test to a same-named test elsewhere.
            plans = [(0, self._exact)]
        else:
            plans = [
                (start, self._exact)
                for start in range(1, len(parts))
                if parts[start] in self._roots
            ]
            plans.append((0, self._suffix))
        groups: list[list[str]] = []
        for start, table in plans:
            for end in range(len(parts), start, -1):
                files = table.get(".".join(parts[start:end]))
                if files and len(files) <= MAX_TIES:
                    groups.append(sorted(SEPARATOR.join([f, *parts[end:]]) for f in files))
        self.cache[classname] = groups
        return groups

    def by_path(self, path: str) -> str | None:
        """The known file a report's path names: equal, else (``guesses``) the one unique
        suffix match, else (an absolute path from another checkout) the longest known suffix."""
        if path in self.files:
            return path
        if self.guesses:
            return self._unique_suffix(path)
        if not path.startswith("/"):
            return None
        parts = path.split("/")
        for start in range(1, len(parts)):  # longest suffix first: the most specific file
            suffix = "/".join(parts[start:])
            if suffix in self.files:
                return suffix
        return None

    def _unique_suffix(self, path: str) -> str | None:
        if self._paths is None:
            self._paths = {}
            for known in self.files:
                parts = known.split("/")
                for start in range(len(parts)):
                    self._paths.setdefault("/".join(parts[start:]), []).append(known)
        parts = path.split("/")
        for start in range(len(parts)):
            files = self._paths.get("/".join(parts[start:]))
            if files:
                return files[0] if len(files) == 1 else None
        return None


class Resolver:
    """Known ids (node ids and whole files), looked up the way JUnit reports name tests.

    ``workdir``: the root the reports' absolute ``file`` paths are made relative to.
    ``guesses``: for timings, whose reports may come from another checkout or rootdir; results
    (the runner, the fan-in) resolve without them, so a case never matches a lookalike.
    """

    def __init__(
        self, ids: Iterable[str], workdir: str | None = None, *, guesses: bool = False
    ) -> None:
        self.ids: dict[str, None] = ids if isinstance(ids, dict) else dict.fromkeys(ids)
        self.workdir = workdir
        self.guesses = guesses
        self._files = [i for i in self.ids if SEPARATOR not in i]
        self._nodes = {i: None for i in self.ids if SEPARATOR in i} if self._files else self.ids
        self._node_modules: Modules | None = None
        self._file_modules: Modules | None = None
        self._escaped: dict[str, str] | None = None
        self._node_single: dict[str, str] = {}
        """classname -> its one prefix when it names one file and one split, else ``""``."""
        self._file_single: dict[str, tuple[str, str]] = {}
        """classname -> (whole file, prefix) of its most specific module when that is one file."""

    def match(self, classname: str | None, name: str, file: str | None = None) -> Match:
        """The id a case stands for (see the module docstring); ``name`` equal to an id (runners
        that write ids) is taken as is. The first look-ups are the hot path of 1M timings."""
        if name in self.ids:
            return Match(name, name)
        stale = False
        if classname and self._nodes:
            prefix = self._node_single.get(classname)
            if prefix is None:
                groups = self._node_table().prefixes(classname)
                one = len(groups) == 1 and len(groups[0]) == 1
                prefix = self._node_single[classname] = groups[0][0] if one else ""
            if prefix:
                candidate = f"{prefix}{SEPARATOR}{name}"
                if candidate in self._nodes:
                    return Match(candidate, candidate)
            groups = self._node_table().prefixes(classname)
            hits = self._hits(groups, name)
            if hits:
                # Several hits: the classname splits into module + classes in more than one way
                # that exists (``a/b.py::C`` and ``a/b/C.py``). Only ``file`` may choose.
                found = self._settle(hits, self._relative(file))
                return Match(found, found)
            stale = bool(groups)
        if self._files:
            if classname:
                single = self._file_single.get(classname)
                if single is not None:
                    return Match(single[0], f"{single[1]}{SEPARATOR}{name}")
            whole = self._whole_file(classname, name, self._relative(file))
            if whole is not None:
                return whole
        return STALE if stale else NO_MATCH

    def test_id(self, classname: str | None, name: str, file: str | None = None) -> str | None:
        """``match(...).test``, without building a :class:`Match` on the hot path."""
        if classname and name not in self.ids:
            prefix = self._node_single.get(classname)
            if prefix:
                candidate = f"{prefix}{SEPARATOR}{name}"
                if candidate in self._nodes:
                    return candidate
        return self.match(classname, name, file).test

    def node(self, classname: str | None, name: str, file: str | None = None) -> str | None:
        """``match(...).node``, without building a :class:`Match` on the hot path."""
        if classname and not self._nodes and name not in self.ids:
            single = self._file_single.get(classname)
            if single is not None:
                return f"{single[1]}{SEPARATOR}{name}"
        return self.match(classname, name, file).node

    def _node_table(self) -> Modules:
        if self._node_modules is None:
            files = (file_of(i) for i in self._nodes)
            self._node_modules = Modules(files, guesses=self.guesses)
        return self._node_modules

    def lookup(self, case: CaseResult) -> str | None:
        return self.match(case.classname, case.name, case.file).test

    def matched(self, cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
        """The cases of each id that at least one case names, in document order."""
        found: dict[str, list[CaseResult]] = {}
        for case in cases:
            test_id = self.lookup(case)
            if test_id is not None:
                found.setdefault(test_id, []).append(case)
        return found

    def _relative(self, file: str | None) -> str | None:
        return normalise_path(file, self.workdir) if file else None

    def _hits(self, groups: Sequence[Sequence[str]], name: str) -> list[str]:
        escaped = self._escaped_ids() if "#x" in name else None
        hits: list[str] = []
        for group in groups:
            for prefix in group:
                candidate = f"{prefix}{SEPARATOR}{name}"
                if candidate in self._nodes:
                    hits.append(candidate)
                elif escaped is not None and candidate in escaped:
                    hits.append(escaped[candidate])
        return sorted(set(hits))

    def _escaped_ids(self) -> dict[str, str]:
        """Node ids holding characters XML cannot hold, as pytest writes them in a report."""
        if self._escaped is None:
            self._escaped = {}
            for node_id in self._nodes:
                if not (node_id.isascii() and node_id.isprintable()):
                    path, _, tail = node_id.partition(SEPARATOR)
                    self._escaped[f"{path}{SEPARATOR}{xml_escape(tail)}"] = node_id
        return self._escaped

    def _settle(self, candidates: Sequence[str], file: str | None) -> str | None:
        """One of several equally good ids, chosen by the report's ``file``, or None."""
        if len(candidates) == 1:
            return candidates[0]
        if not file:
            return None
        exact = [c for c in candidates if file_of(c) == file]
        if len(exact) == 1 or not self.guesses:
            return exact[0] if len(exact) == 1 else None
        loose = [
            c
            for c in candidates
            if file.endswith("/" + (path := file_of(c))) or path.endswith("/" + file)
        ]
        return loose[0] if len(loose) == 1 else None

    def _whole_file(self, classname: str | None, name: str, file: str | None) -> Match | None:
        """A whole-file id: by the classname's module, else (``guesses``) the classname read
        as a path (jest-junit can write one), else by ``file``."""
        modules = self._file_modules
        if modules is None:
            modules = self._file_modules = Modules(self._files, guesses=self.guesses)
        if classname:
            groups = modules.prefixes(classname)
            if len(groups) == 1 and len(groups[0]) == 1:  # no ``file`` can change the answer
                self._file_single[classname] = (file_of(groups[0][0]), groups[0][0])
            agreeing = [p for group in groups for p in group if file_of(p) == file]
            if agreeing:  # the classname and ``file`` name the same file
                return Match(file_of(agreeing[0]), f"{agreeing[0]}{SEPARATOR}{name}")
            for group in groups:
                found = self._settle(group, file)
                if found is not None:
                    return Match(file_of(found), f"{found}{SEPARATOR}{name}")
            as_path = modules.by_path(normalise_path(classname)) if self.guesses else None
            if as_path is not None:
                return Match(as_path, f"{as_path}{SEPARATOR}{name}")
        if file:
            as_path = modules.by_path(file)
            if as_path is not None:
                return Match(as_path, SEPARATOR.join([as_path, classname or "", name]))
        return None
