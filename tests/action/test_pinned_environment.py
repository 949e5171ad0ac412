"""The action's own environment is pinned with hashes (requirements/action.txt), and the pins
keep up with pyproject.toml. The real install is tested in test_action_steps.py (the one
harness test that installs)."""

from __future__ import annotations

import re
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.action.harness import REPO_ROOT, load_action

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PINNED = REPO_ROOT / "requirements" / "action.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pins() -> dict[str, tuple[Version, int]]:
    """name -> (version, number of hashes) from the compiled file."""
    found: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in PINNED.read_text("utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            found[current] = (Version(match[2]), 0)
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif not line.startswith(" "):
            current = None
    return found


def test_every_runtime_dependency_is_pinned_inside_its_range() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pinned = pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} has no pin in {PINNED}: refresh it"
        version, _ = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside pyproject.toml's {requirement.specifier}"
        )
    assert "hatchling" in pinned, "the build backend comes from the pinned file too"


def test_every_pin_carries_hashes() -> None:
    pinned = pins()
    assert len(pinned) >= 20
    assert all(hashes >= 1 for _, hashes in pinned.values()), pinned


def test_the_install_step_requires_the_hashes_and_fetches_nothing_else() -> None:
    (install,) = [s for s in load_action()["runs"]["steps"] if s.get("id") == "install"]
    script = install["run"]
    assert '--require-hashes --no-deps -r "$GITHUB_ACTION_PATH/requirements/action.txt"' in script
    assert '--no-deps --no-build-isolation --no-index "$GITHUB_ACTION_PATH"' in script
    # No other pip install in the action that could fetch an unpinned package.
    assert len(re.findall(r"\bpip\b.*\binstall\b", script)) == 1
