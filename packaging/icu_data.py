"""A smaller ICU data library for the Linux bundle: what Qt can ask ICU for stays, the rest goes.

PySide6's Linux wheels carry ICU 73 for Qt. Its data library ``libicudata.so.73`` is 32 MB: a
shared object whose only export, ``icudt73_dat``, is ICU's "common data" package (a table of
contents, then one item per resource: converter tables, collation, locale data, ...).

Qt 6 calls exactly these ICU functions (the undefined ``*_73`` symbols of ``libQt6Core``):
converters (``ucnv_*``, for ``QStringConverter`` encodings Qt does not implement itself),
collation (``ucol_*``, ``QCollator``), calendars and time-zone names (``ucal_*``, ``QTimeZone``)
and case mapping (``u_strToUpper``/``u_strToLower``, whose tables are compiled into libicuuc).
No other Qt library, PySide6 module or plugin in the bundle links ICU. So the data trees only
the rest of ICU reads are dropped (:data:`DROPPED_TREES`, :data:`DROPPED_SUFFIXES`): break
iterator rules and dictionaries, transliterators, unit, currency and language display names,
number spell-out rules, StringPrep profiles and spoof-check confusables. Converters, collation,
locale data, time zones and region names stay. ``tests/packaging/test_icu_data.py`` checks that
Qt's collation, converters, time-zone names and case mapping give the same results with the
trimmed library as with the original.

The new library is assembled with binutils (``as`` and ``ld``, as ``strip`` is for debug
sections): the same soname and exported symbol, the trimmed package as its read-only data.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

#: Data trees (``icudt73l/<tree>/...``) that no ICU function Qt calls ever opens.
DROPPED_TREES: frozenset[str] = frozenset({"brkitr", "translit", "unit", "curr", "lang", "rbnf"})
#: Top-level items dropped by kind: StringPrep profiles (IDNA2003) and confusables (spoof checks).
DROPPED_SUFFIXES: tuple[str, ...] = (".spp", ".cfu")
_MAGIC = (0xDA, 0x27)
_ALIGN = 16
#: ICU pads between items with this byte (so a package read and written again is identical).
_PAD = b"\xaa"


class IcuDataError(ValueError):
    """The file is not an ICU data library or package this module understands."""


@dataclass(frozen=True)
class Package:
    """An ICU common data package: its header (kept as is) and its items, in table-of-contents order."""

    header: bytes
    items: tuple[tuple[str, bytes], ...]

    def names(self) -> list[str]:
        """Every item's name, e.g. ``icudt73l/coll/root.res``."""
        return [name for name, _data in self.items]


def is_icu_data_library(dest: str) -> bool:
    """Whether a bundle entry (by its destination) is ICU's data library (``libicudata.so.NN``)."""
    return PurePath(dest).name.startswith("libicudata.so")


def keep_item(name: str) -> bool:
    """Whether the package item ``name`` (``icudt73l/<tree>/<file>`` or ``icudt73l/<file>``) is kept."""
    parts = name.split("/")
    if len(parts) > 2 and parts[1] in DROPPED_TREES:
        return False
    return not name.endswith(DROPPED_SUFFIXES)


def parse_package(blob: bytes) -> Package:
    """Read a common data package (``CmnD``, little-endian, as ICU's ``icupkg`` writes it)."""
    if len(blob) < 32 or (blob[2], blob[3]) != _MAGIC:
        raise IcuDataError("not an ICU data package (no 0xda27 magic)")
    header_size, = struct.unpack_from("<H", blob, 0)
    is_big_endian, data_format = blob[8], blob[12:16]
    if data_format != b"CmnD" or is_big_endian:
        raise IcuDataError(f"not a little-endian common data package ({data_format!r})")
    count, = struct.unpack_from("<I", blob, header_size)
    entries = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for index, (name_offset, data_offset) in enumerate(entries):
        start = header_size + name_offset
        name = blob[start : blob.index(b"\0", start)].decode("ascii")
        end = header_size + entries[index + 1][1] if index + 1 < count else len(blob)
        items.append((name, blob[header_size + data_offset : end]))
    return Package(blob[:header_size], tuple(items))


def write_package(package: Package) -> bytes:
    """The package as bytes: header, table of contents (names sorted), then each item 16-byte aligned."""
    items = sorted(package.items, key=lambda item: item[0].encode("ascii"))
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in items)
    toc_size = 4 + 8 * len(items)
    name_offsets, offset = [], toc_size
    for name, _data in items:
        name_offsets.append(offset)
        offset += len(name) + 1
    offset = _aligned(len(package.header) + offset) - len(package.header)
    data_offsets = []
    body = bytearray()
    for _name, data in items:
        data_offsets.append(offset + len(body))
        body += data + _PAD * (_aligned(len(data)) - len(data))
    toc = bytearray(struct.pack("<I", len(items)))
    for name_offset, data_offset in zip(name_offsets, data_offsets, strict=True):
        toc += struct.pack("<II", name_offset, data_offset)
    toc += names
    toc += _PAD * (offset - len(toc))
    return bytes(package.header) + bytes(toc) + bytes(body)


def trimmed(package: Package) -> Package:
    """The package without the items :func:`keep_item` drops."""
    return Package(package.header, tuple(item for item in package.items if keep_item(item[0])))


@dataclass(frozen=True)
class DataLibrary:
    """What an ICU data library holds: its soname, its one exported symbol and that symbol's bytes."""

    soname: str
    symbol: str
    blob: bytes


def read_library(path: Path) -> DataLibrary:
    """Read ``libicudata.so.NN`` (ELF64, little-endian): the ``icudt*_dat`` symbol's bytes and the soname."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise IcuDataError(f"{path.name}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynsym = next((s for s in sections if s[1] == 11), None)  # SHT_DYNSYM
    dynamic = next((s for s in sections if s[1] == 6), None)  # SHT_DYNAMIC
    if dynsym is None or dynamic is None:
        raise IcuDataError(f"{path.name}: no dynamic symbols")
    strtab = sections[dynsym[6]]
    found: tuple[str, int, int] | None = None
    for offset in range(dynsym[4], dynsym[4] + dynsym[5], 24):
        name_index, _info, _other, section_index, value, size = struct.unpack_from("<IBBHQQ", data, offset)
        name = _cstring(data, strtab[4] + name_index)
        if name.startswith("icudt") and name.endswith("_dat") and 0 < section_index < shnum:
            owner = sections[section_index]
            found = (name, owner[4] + value - owner[3], size)
    if found is None:
        raise IcuDataError(f"{path.name}: no icudtNN_dat symbol")
    soname = ""
    for offset in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 14:  # DT_SONAME
            soname = _cstring(data, strtab[4] + value)
    name, start, size = found
    return DataLibrary(soname or path.name, name, data[start : start + size])


def assemble_library(library: DataLibrary, out: Path, workdir: Path) -> Path:
    """Write a shared object exporting ``library.symbol`` = ``library.blob``, with its soname (binutils)."""
    assembler, linker = shutil.which("as"), shutil.which("ld")
    if assembler is None or linker is None:
        raise IcuDataError("binutils (as, ld) are needed to assemble the ICU data library")
    workdir.mkdir(parents=True, exist_ok=True)
    blob = workdir / f"{library.symbol}.bin"
    blob.write_bytes(library.blob)
    source = workdir / f"{library.symbol}.s"
    source.write_text(
        "\t.section .rodata\n"
        f"\t.globl {library.symbol}\n"
        f"\t.type {library.symbol}, @object\n"
        f"\t.balign {_ALIGN}\n"
        f"{library.symbol}:\n"
        f'\t.incbin "{blob.name}"\n'
        f"\t.size {library.symbol}, . - {library.symbol}\n"
        '\t.section .note.GNU-stack,"",@progbits\n',
        encoding="ascii",
    )
    obj = workdir / f"{library.symbol}.o"
    subprocess.run([assembler, "-o", str(obj), source.name], check=True, cwd=workdir)  # noqa: S603
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [linker, "-shared", "-soname", library.soname, "-z", "noexecstack", "--hash-style=both",
         "-o", str(out), str(obj)],
        check=True,
    )
    return out


def trim_library(src: Path, out: Path, workdir: Path) -> tuple[int, int]:
    """Write the trimmed copy of the ICU data library ``src`` to ``out``; (items before, items after)."""
    library = read_library(src)
    package = parse_package(library.blob)
    kept = trimmed(package)
    assemble_library(DataLibrary(library.soname, library.symbol, write_package(kept)), out, workdir)
    return len(package.items), len(kept.items)


def trim_in_toc(entries: Iterable[tuple[str, str, str]], workdir: Path) -> list[tuple[str, str, str]]:
    """PyInstaller TOC entries (dest, src, kind) with ICU's data library replaced by its trimmed copy.

    Without binutils the entries are returned unchanged (the bundle is then larger, not broken).
    """
    result = []
    for dest, src, kind in entries:
        if is_icu_data_library(dest) and shutil.which("as") and shutil.which("ld"):
            out = workdir / "icu" / PurePath(dest).name
            before, after = trim_library(Path(src), out, workdir / "icu-work")
            print(f"ICU data: kept {after} of {before} items in {dest}")
            result.append((dest, str(out), kind))
        else:
            result.append((dest, src, kind))
    return result


def _aligned(size: int) -> int:
    """``size`` rounded up to the items' alignment."""
    return (size + _ALIGN - 1) // _ALIGN * _ALIGN


def _cstring(data: bytes, start: int) -> str:
    """The NUL-terminated ASCII string at ``start``."""
    return data[start : data.index(b"\0", start)].decode("ascii")
