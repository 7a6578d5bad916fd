"""The trimmed ICU data library (packaging/icu_data.py): Qt computes the same with it as with ICU's own."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import icu_data

PROBE = Path(__file__).with_name("icu_probe.py")
ON_CI = os.environ.get("CI") == "true"


def _header() -> bytes:
    """A package header like ICU's: size, magic, then UDataInfo for a little-endian ``CmnD`` package."""
    info = struct.pack("<HHBBBB4s4B4B", 20, 0, 0, 0, 2, 0, b"CmnD", 1, 0, 0, 0, 3, 0, 0, 0)
    header = struct.pack("<HBB", 32, 0xDA, 0x27) + info
    return header + b"\0" * (32 - len(header))


def test_a_package_is_written_sorted_aligned_and_read_back() -> None:
    items = (("icudt73l/zz.res", b"last"), ("icudt73l/brkitr/word.brk", b"B" * 33),
             ("icudt73l/cnvalias.icu", b"aliases"), ("icudt73l/coll/root.res", b"C" * 16))
    blob = icu_data.write_package(icu_data.Package(_header(), items))
    package = icu_data.parse_package(blob)
    assert package.names() == sorted(name for name, _ in items)
    count, = struct.unpack_from("<I", blob, 32)
    offsets = [struct.unpack_from("<II", blob, 36 + 8 * i)[1] for i in range(count)]
    assert all((32 + offset) % 16 == 0 for offset in offsets)
    for name, data in items:  # each item comes back with at most its alignment padding
        got = dict(package.items)[name]
        assert got[: len(data)] == data and len(got) - len(data) < 16
    assert icu_data.write_package(package) == blob


def test_only_the_trees_qt_never_reads_are_dropped() -> None:
    for name in ("icudt73l/brkitr/cjdict.dict", "icudt73l/translit/root.res", "icudt73l/unit/de.res",
                 "icudt73l/curr/en.res", "icudt73l/lang/fr.res", "icudt73l/rbnf/root.res",
                 "icudt73l/rfc3491.spp", "icudt73l/confusables.cfu"):
        assert not icu_data.keep_item(name), name
    for name in ("icudt73l/coll/root.res", "icudt73l/coll/ucadata.icu", "icudt73l/ibm-943_P15A-2003.cnv",
                 "icudt73l/cnvalias.icu", "icudt73l/zone/de.res", "icudt73l/zoneinfo64.res",
                 "icudt73l/metaZones.res", "icudt73l/region/en.res", "icudt73l/root.res", "icudt73l/de.res",
                 "icudt73l/supplementalData.res", "icudt73l/uts46.nrm"):
        assert icu_data.keep_item(name), name
    assert icu_data.is_icu_data_library("PySide6/Qt/lib/libicudata.so.73")
    assert not icu_data.is_icu_data_library("PySide6/Qt/lib/libicuuc.so.73")


def test_garbage_is_not_taken_for_icu_data(tmp_path: Path) -> None:
    with pytest.raises(icu_data.IcuDataError, match="magic"):
        icu_data.parse_package(b"\0" * 64)
    path = tmp_path / "libicudata.so.73"
    path.write_bytes(b"not an ELF file at all")
    with pytest.raises(icu_data.IcuDataError, match="ELF"):
        icu_data.read_library(path)


def _wheel_library() -> Path:
    """The ICU data library of the installed PySide6 (Linux wheels carry one)."""
    import PySide6

    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if sys.platform != "linux" or not found:
        pytest.skip("this PySide6 carries no ICU data library (only Linux wheels do)")
    if shutil.which("as") is None or shutil.which("ld") is None:
        if ON_CI:
            pytest.fail("binutils (as, ld) are missing: the Linux bundle needs them")
        pytest.skip("binutils (as, ld) are not installed")
    real = [p for p in found if not p.is_symlink()]
    return real[0] if real else found[0]


def _probe(library_dir: Path | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if library_dir is not None:
        env["LD_LIBRARY_PATH"] = str(library_dir)  # searched before the Qt libraries' RUNPATH
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def trimmed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the trimmed copy of the wheel's ICU data library, under the same file name."""
    src = _wheel_library()
    folder = tmp_path_factory.mktemp("icu")
    icu_data.trim_library(src, folder / src.name, folder / "work")
    return folder


def test_the_trimmed_library_keeps_every_other_item_byte_for_byte(trimmed_dir: Path) -> None:
    src = _wheel_library()
    original = icu_data.read_library(src)
    package = icu_data.parse_package(original.blob)
    assert icu_data.write_package(package) == original.blob  # the reader and writer lose nothing
    trimmed = icu_data.read_library(trimmed_dir / src.name)
    assert (trimmed.soname, trimmed.symbol) == (original.soname, original.symbol)
    kept = dict(icu_data.parse_package(trimmed.blob).items)
    assert set(kept) == {name for name in package.names() if icu_data.keep_item(name)}
    assert all(kept[name] == data for name, data in package.items if name in kept)
    assert not [name for name in kept if "/brkitr/" in name or "/translit/" in name]
    assert (trimmed_dir / src.name).stat().st_size < src.stat().st_size - 10_000_000


@pytest.mark.skipif(sys.platform != "linux", reason="ICU ships only in Linux wheels")
def test_qt_computes_the_same_with_the_trimmed_icu_data(trimmed_dir: Path) -> None:
    original = _probe(None)
    trimmed = _probe(trimmed_dir)
    assert original.pop("loaded") == [str(_wheel_library())]
    assert trimmed.pop("loaded") == [str(trimmed_dir / _wheel_library().name)]
    assert trimmed == original
    # ...and ICU's data really was used: German zone names, Swedish collation, a Japanese codec
    assert "Mitteleuropäische Normalzeit" in str(original["zone Europe/Berlin de_DE"])
    swedish = original["sort sv_SE"]
    assert isinstance(swedish, list) and swedish.index("Öl") > swedish.index("zoo")
    assert "東京" in str(original["codec Shift_JIS"])
