"""Unpacking an artifact that may come from a hostile run: stay inside, stay small."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shard_action.adapters.artifacts import safe_extract
from shard_action.errors import InputError
from tests.fakegithub import make_zip


def zip_with(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def member(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def test_extracts_files_and_folders(tmp_path: Path) -> None:
    archive = tmp_path / "ok.zip"
    archive.write_bytes(
        make_zip({"history.json": "{}", "lanes/db/timings.json": b"[1, 2]", "./x/./y.txt": "y"})
    )
    dest = tmp_path / "out"

    written = safe_extract(archive, dest)

    assert sorted(p.relative_to(dest.resolve()).as_posix() for p in written) == [
        "history.json",
        "lanes/db/timings.json",
        "x/y.txt",
    ]
    assert (dest / "lanes/db/timings.json").read_bytes() == b"[1, 2]"


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "a/../../evil.txt",
        "/etc/evil.txt",
        "..\\evil.txt",
        "a\\..\\..\\evil.txt",
        "C:\\evil.txt",
        "c:evil.txt",
        "\\\\server\\share\\evil.txt",
    ],
)
def test_paths_leaving_the_destination_are_refused(tmp_path: Path, name: str) -> None:
    dest = tmp_path / "deep" / "out"
    data = zip_with(("fine.txt", b"fine"), (member(name), b"evil"))

    with pytest.raises(InputError) as caught:
        safe_extract(data, dest, label="artifact 'h' (id 9)")

    message = str(caught.value)
    assert message.startswith("artifact 'h' (id 9): refusing to extract member")
    assert repr(name) in message
    assert files_under(tmp_path) == set(), "nothing at all was written"


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    data = zip_with((member("link", stat.S_IFLNK | 0o777), b"/etc/passwd"))
    with pytest.raises(InputError, match="'link': symbolic links"):
        safe_extract(data, tmp_path / "out")
    assert not (tmp_path / "out" / "link").exists()
    assert not os.path.lexists(tmp_path / "out" / "link")


@pytest.mark.parametrize("kind", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_special_files_are_refused(tmp_path: Path, kind: int) -> None:
    data = zip_with((member("dev", kind | 0o600), b""))
    with pytest.raises(InputError, match="not a regular file"):
        safe_extract(data, tmp_path / "out")


def test_a_link_already_in_the_destination_cannot_lead_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "lanes").symlink_to(outside)
    data = zip_with(("lanes/history.json", b"{}"))

    with pytest.raises(InputError, match="leads outside the destination"):
        safe_extract(data, dest)

    assert list(outside.iterdir()) == []


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    data = make_zip({f"f{n}.txt": "x" for n in range(11)})
    with pytest.raises(InputError, match="11 members, more than the limit of 10"):
        safe_extract(data, tmp_path / "out", max_files=10)
    assert safe_extract(data, tmp_path / "ok", max_files=11)


def test_total_size_is_bounded(tmp_path: Path) -> None:
    data = make_zip({"a.bin": os.urandom(600), "b.bin": os.urandom(600)})
    with pytest.raises(
        InputError, match=r"more than the limit of 1000 bytes \(at member 'b.bin'\)"
    ):
        safe_extract(data, tmp_path / "out", max_bytes=1000)
    assert not (tmp_path / "out" / "a.bin").exists(), "checked before writing"


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    bomb = make_zip({"zeros.json": bytes(4 * 1024 * 1024)})
    assert len(bomb) < 10_000  # 4 MiB of zeros deflate to a few KiB: over 400x

    with pytest.raises(InputError, match=r"'zeros\.json': inflates 4194304 bytes .* zip bomb"):
        safe_extract(bomb, tmp_path / "out")
    written = safe_extract(bomb, tmp_path / "ok", max_ratio=10_000)
    assert written[0].stat().st_size == 4 * 1024 * 1024


def test_small_compressible_files_are_fine(tmp_path: Path) -> None:
    data = make_zip({"history.json": "{}" + " " * 100_000})
    assert safe_extract(data, tmp_path / "out")


def test_overlapping_members_cannot_exceed_the_bound(tmp_path: Path) -> None:
    """A bomb that reuses one compressed block for many members still counts every member."""
    data = make_zip({f"copy{n}.bin": os.urandom(300) for n in range(10)})
    with pytest.raises(InputError, match="limit of 2000 bytes"):
        safe_extract(data, tmp_path / "out", max_bytes=2000)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    data = zip_with(("history.json", b"{}"), ("History.JSON", b"{}"))
    with pytest.raises(InputError, match="appears twice"):
        safe_extract(data, tmp_path / "out")


def test_encrypted_members_are_refused(tmp_path: Path) -> None:
    data = bytearray(zip_with(("secret.json", b"{}")))
    # zipfile cannot write encrypted members: set the "encrypted" flag bit in both headers.
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    with pytest.raises(InputError, match=r"'secret\.json': encrypted"):
        safe_extract(bytes(data), tmp_path / "out")


def test_not_a_zip_names_the_file(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"<html>502 Bad Gateway</html>")
    with pytest.raises(InputError, match=r"broken\.zip: not a readable zip archive"):
        safe_extract(archive, tmp_path / "out")


def test_corrupt_member_removes_what_was_written(tmp_path: Path) -> None:
    data = bytearray(zip_with(("a.txt", b"a" * 100), ("b.txt", b"b" * 100)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        crc = archive.getinfo("b.txt").CRC.to_bytes(4, "little")
    # Spoil b.txt's checksum in both its local header and the central directory.
    data[:] = data.replace(crc, b"\0\0\0\0")

    with pytest.raises(InputError, match="member could not be extracted"):
        safe_extract(bytes(data), tmp_path / "out")

    assert files_under(tmp_path / "out") == set()


NAME_PART = st.sampled_from(["a", "b", "..", ".", "", "/", "\\", "C:", "x.json", "~", " "])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(
        st.lists(NAME_PART, min_size=1, max_size=6).map("".join), max_size=5, unique=True
    )
)
def test_nothing_is_ever_written_outside(
    tmp_path_factory: pytest.TempPathFactory, names: list[str]
) -> None:
    root = tmp_path_factory.mktemp("prop")
    dest = root / "a" / "out"
    members = [(member(name), b"data") for name in names if name]
    try:
        written = safe_extract(zip_with(*members), dest)
    except InputError:
        written = []
    inside = dest.resolve()
    for path in written:
        assert path.resolve().is_relative_to(inside)
    assert {p for p in root.rglob("*") if p.is_file()} <= {p for p in dest.rglob("*")}
