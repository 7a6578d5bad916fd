"""The app icon files: valid PNG, ICO and ICNS, every size present, up to date with the drawing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, REPO

RESOURCES = REPO / "desktop" / "app" / "resources"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.gui


def _make_icons():  # packaging/make_icons.py is a script, not a module of a package
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_icons", PACKAGING / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


def test_the_png_is_512_pixels() -> None:
    assert _png_size((RESOURCES / "inbox-triage.png").read_bytes()) == (512, 512)


def test_the_ico_holds_every_windows_size_as_png() -> None:
    data = (RESOURCES / "inbox-triage.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _colours, _r, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        image = data[offset : offset + length]
        assert _png_size(image) == (width or 256, height or 256)
        assert (planes, bits) == (1, 32)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_the_icns_holds_every_macos_size_as_png() -> None:
    data = (RESOURCES / "inbox-triage.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    expected = dict(_make_icons().ICNS_TYPES)
    position, found = 8, {}
    while position < len(data):
        kind, length = (
            data[position : position + 4],
            struct.unpack(">I", data[position + 4 : position + 8])[0],
        )
        found[kind] = _png_size(data[position + 8 : position + length])[0]
        position += length
    assert found == expected


def test_the_committed_icons_are_what_make_icons_draws(tmp_path: Path, qapp) -> None:
    written = _make_icons().write_icons(tmp_path)
    for path in written:
        assert path.read_bytes() == (RESOURCES / path.name).read_bytes(), (
            f"run packaging/make_icons.py ({path.name})"
        )
