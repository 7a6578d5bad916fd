"""What goes into the PyInstaller bundle, shared by the spec, the Qt hook overrides and the tests.

Pure functions over paths and names (PyInstaller itself is imported only by the spec and hooks), so
the rules can be unit-tested without building anything.

Size policy (Linux target ≤ 200 MB unpacked, see the README's "Build installers"):
- Qt: only the plugins the app uses (platforms offscreen + the OS's own, PNG/SVG/ICO images, the
  SVG icon engine, styles, input methods and the xcb GL glue on Linux), no translations (the app
  is in English), no QML/Quick/WebEngine.
- Python: no tkinter, test suites or build tools; no scikit-learn or SciPy (the classifier trains
  with NumPy alone, checked by the bundle's ``--selftest``, which trains the model), no
  ``numpy.random`` or ``numpy.fft``.
- Linux: debug sections stripped; ICU's 32 MB data library replaced by a copy without the data
  Qt never asks ICU for (``icu_data.py``, about 18 MB).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath

APP_NAME = "Inbox Triage"
DISTRIBUTION = "inbox-triage"
#: The folder PyInstaller collects into (``dist/InboxTriage``), and the macOS app's name.
COLLECT_NAME = "InboxTriage"
MACOS_APP = f"{APP_NAME}.app"
#: The executable with a console (the command line, ``--selftest``; the only one on Linux).
CONSOLE_EXE = "inbox-triage"
#: The windowed executable (Windows Start menu, the macOS app): no console window.
GUI_EXE = "InboxTriage"
BUNDLE_ID_DEFAULT = "com.inboxtriage.desktop"
APP_PACKAGES = ("engine", "connectors", "desktop")
#: Alembic runs these as files (``env.py``, ``versions/*.py``) from the migrations folder.
MIGRATIONS = "engine/storage/migrations"
DOCS = ("desktop.md", "cli.md", "audit-log.md")
BUNDLE_MANIFEST = "bundle-manifest.json"

# --- Qt -------------------------------------------------------------------------------------------

#: Plugin folders kept, and within them the plugins kept (None = all of that kind).
QT_PLUGINS: dict[str, frozenset[str] | None] = {
    "platforms": frozenset({"offscreen", "xcb", "windows", "cocoa"}),
    "imageformats": frozenset({"svg", "ico"}),
    "iconengines": None,
    "styles": None,
    "platforminputcontexts": frozenset({"compose", "ibus"}),
    "xcbglintegrations": None,
    "platformthemes": frozenset({"xdgdesktopportal"}),
}

def qt_plugin_name(file_name: str) -> str:
    """The plugin's short name: ``libqxcb.so`` → ``xcb``, ``qwindows.dll`` → ``windows``,
    ``libcomposeplatforminputcontextplugin.so`` → ``compose``."""
    stem = file_name.split(".", maxsplit=1)[0]
    if stem.startswith("lib"):
        stem = stem[3:]
    for suffix in ("platforminputcontextplugin", "plugin"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    if stem.startswith("q"):
        stem = stem[1:]
    return stem


def keep_qt_plugin(src: str, dest_dir: str) -> bool:
    """Whether the Qt plugin at ``src`` (collected into ``dest_dir``) belongs in the bundle."""
    kind = PurePath(dest_dir).name
    if kind not in QT_PLUGINS:
        # e.g. "platforms/darwin" has the macOS permission plugins next to cocoa
        parent = PurePath(dest_dir).parent.name
        return parent == "platforms" and kind == "darwin"
    wanted = QT_PLUGINS[kind]
    return wanted is None or qt_plugin_name(PurePath(src).name) in wanted


def is_qt_translation(src: str, dest_dir: str) -> bool:
    """Whether a collected data file is a Qt translation (``*.qm``): none are shipped."""
    return src.endswith(".qm") or PurePath(dest_dir).name == "translations"


def filter_qt_hook(
    binaries: Iterable[tuple[str, str]], datas: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A Qt hook's (binaries, datas) without the plugins and translations the app does not use."""
    kept_binaries = [
        (src, dest)
        for src, dest in binaries
        if "plugins" not in PurePath(dest).parts or keep_qt_plugin(src, dest)
    ]
    kept_datas = [(src, dest) for src, dest in datas if not is_qt_translation(src, dest)]
    return kept_binaries, kept_datas


# --- Python modules -----------------------------------------------------------------------------

#: Never bundled: GUI toolkits and tools the app does not use, test suites, build tools.
EXCLUDED_MODULES: tuple[str, ...] = (
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "test", "lib2to3", "ensurepip",
    "distutils", "pip", "IPython", "matplotlib", "pandas", "pyarrow", "PIL", "pytest", "_pytest",
    "hypothesis", "pytestqt", "sphinx", "docutils", "mypy", "ruff",
    # only cffi's build-time helpers import these; their PyInstaller runtime hooks would cost start-up time
    "setuptools", "pkg_resources",
    "numpy.distutils", "numpy.tests",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtXml", "PySide6.QtConcurrent", "PySide6.QtUiTools",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtPrintSupport",
    # the classifier trains with NumPy alone: scikit-learn and SciPy are not dependencies, and stay
    # out even where a build environment still has them installed
    "sklearn", "scipy", "joblib", "threadpoolctl",
    # NumPy's compiled parts nothing imports (import numpy does not; fit.py shuffles with random.Random)
    "numpy.random", "numpy.fft",
)

#: Collected data under these bundle folders is dropped (packages kept out of the bundle).
EXCLUDED_DATA_DIRS: tuple[str, ...] = ("sklearn", "scipy")

#: Standard-library extension modules that exist only for CPython's own test suite.
_TEST_EXTENSIONS = re.compile(
    r"^(_test\w*|_ctypes_test|_xxtestfuzz|xxlimited\w*|xxsubtype|_xxsubinterpreters)\."
)


def keep_data(dest: str) -> bool:
    """Whether a collected data file (by its destination path in the bundle) is kept."""
    posix = PurePath(dest).as_posix()
    return not any(posix == d or posix.startswith(d + "/") for d in EXCLUDED_DATA_DIRS)


def has_debug_info(path: Path) -> bool:
    """Whether ``path`` is an ELF file with a ``.debug_info`` section (read from its section headers).

    Only such files are stripped (``strip --strip-debug``): a plain ``strip`` of every library
    breaks the ones auditwheel patched (numpy's OpenBLAS then fails to load: "ELF load command
    address/offset not page-aligned"), while debug sections are safe to drop and are most of the
    weight of CPython's own library and extension modules.
    """
    import struct

    try:
        with path.open("rb") as handle:
            ident = handle.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return False
            wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
            header = handle.read(48 if wide else 36)
            if wide:
                shoff, = struct.unpack_from(order + "Q", header, 24)
                shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", header, 42)
            else:
                shoff, = struct.unpack_from(order + "I", header, 16)
                shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", header, 30)
            if not shoff or not shnum or shstrndx >= shnum:
                return False
            handle.seek(shoff)
            table = handle.read(shentsize * shnum)
            offsets = []
            for index in range(shnum):
                entry = table[index * shentsize:(index + 1) * shentsize]
                if wide:
                    name, = struct.unpack_from(order + "I", entry, 0)
                    offset, size = struct.unpack_from(order + "QQ", entry, 24)
                else:
                    name, = struct.unpack_from(order + "I", entry, 0)
                    offset, size = struct.unpack_from(order + "II", entry, 16)
                offsets.append((name, offset, size))
            _name, strtab_offset, strtab_size = offsets[shstrndx]
            handle.seek(strtab_offset)
            names = handle.read(strtab_size)
    except (OSError, struct.error):
        return False
    return any(names[n:n + 12] == b".debug_info\0" for n, _offset, _size in offsets)


def strip_debug_info(
    binaries: Iterable[tuple[str, str, str]], workdir: Path
) -> list[tuple[str, str, str]]:
    """PyInstaller TOC entries (dest, src, kind) with every ELF file that carries debug sections
    replaced by a copy without them (``strip --strip-debug``, in ``workdir``). Without ``strip``
    on the PATH the entries are returned unchanged."""
    import shutil
    import subprocess

    tool = shutil.which("strip")
    result: list[tuple[str, str, str]] = []
    for dest, src, kind in binaries:
        if tool is not None and has_debug_info(Path(src)):
            out = workdir / "stripped" / dest
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([tool, "--strip-debug", "-o", str(out), src], check=True)  # noqa: S603
            result.append((dest, str(out), kind))
        else:
            result.append((dest, src, kind))
    return result


def keep_binary(dest: str) -> bool:
    """Whether a collected binary (by its destination path) is kept: not one of CPython's test modules."""
    return not _TEST_EXTENSIONS.match(PurePath(dest).name)


# --- the app's own files --------------------------------------------------------------------------


def app_modules(repo: Path) -> list[str]:
    """Every module of the app's packages, from the source tree (migration scripts excluded)."""
    names: set[str] = set()
    for package in APP_PACKAGES:
        for path in sorted((repo / package).rglob("*.py")):
            relative = path.relative_to(repo).with_suffix("")
            if "__pycache__" in relative.parts or relative.as_posix().startswith(MIGRATIONS):
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.add(".".join(parts))
    return sorted(names)


def app_data(repo: Path) -> list[tuple[str, str]]:
    """(source file, bundle folder) for every file the app reads at run time that is not a module."""
    found: list[tuple[str, str]] = []

    def add(files: Iterable[Path]) -> None:
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                found.append((str(file), file.parent.relative_to(repo).as_posix()))

    add((repo / MIGRATIONS).rglob("*"))
    add((repo / "engine" / "classify" / "data").glob("*.jsonl"))
    add((repo / "connectors" / "demo" / "mailbox").iterdir())
    add(p for p in (repo / "desktop" / "app" / "resources").iterdir() if p.suffix in (".png", ".ico", ".svg"))
    found += [(str(repo / "docs" / name), "docs") for name in DOCS]
    return found


def hidden_imports(repo: Path) -> list[str]:
    """Modules PyInstaller cannot see being imported: the app's own (every connector, loaded by
    settings), SQLAlchemy dialects chosen by URL, keyring backends and APScheduler triggers found
    through entry points, psycopg's compiled implementation."""
    return [
        *app_modules(repo),
        "sqlalchemy.dialects.sqlite.pysqlite",
        "sqlalchemy.dialects.postgresql.psycopg",
        "psycopg_binary",
        "alembic.command",
        "alembic.runtime.migration",
        "alembic.ddl.sqlite",
        "alembic.ddl.postgresql",
        "keyring.backends.Windows",
        "keyring.backends.macOS",
        "keyring.backends.SecretService",
        "keyring.backends.kwallet",
        "keyring.backends.libsecret",
        "keyring.backends.chainer",
        "apscheduler.triggers.date",
        "apscheduler.triggers.interval",
        "apscheduler.triggers.cron",
        "apscheduler.executors.pool",
        "apscheduler.jobstores.memory",
        "platformdirs",
    ]


#: Distributions whose metadata (version, entry points) is read at run time.
METADATA: tuple[str, ...] = (DISTRIBUTION, "keyring", "APScheduler", "SQLAlchemy", "alembic", "psycopg")


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """``0.1.0`` → (0, 1, 0, 0); ``1.2.dev3+g1`` → (1, 2, 0, 0): the four numbers Windows wants."""
    release = version.split("+", maxsplit=1)[0].split(".dev", maxsplit=1)[0]
    numbers = [int(n) for n in re.findall(r"\d+", release)[:4]]
    numbers += [0] * (4 - len(numbers))
    return numbers[0], numbers[1], numbers[2], numbers[3]


def platform_key(platform: str = sys.platform) -> str:
    """``windows``, ``macos`` or ``linux``."""
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def executables(platform: str = sys.platform) -> list[tuple[str, bool]]:
    """The executables to build: (name, console). Windows and macOS get a windowed one for people."""
    key = platform_key(platform)
    if key == "windows":
        return [(GUI_EXE, False), (CONSOLE_EXE, True)]
    if key == "macos":
        return [(GUI_EXE, False)]
    return [(CONSOLE_EXE, True)]


def iter_files(root: Path) -> Iterator[Path]:
    """Every file under ``root`` (symlinks not followed), for size reports."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def info_plist(template: Path, version: str, bundle_id: str | None = None) -> dict[str, object]:
    """The macOS app's Info.plist: ``template`` with the version (and the bundle id, when given) filled in."""
    import plistlib

    with template.open("rb") as handle:
        plist = plistlib.load(handle)
    if not isinstance(plist, dict):
        raise ValueError(f"{template} does not hold a dictionary")
    plist["CFBundleShortVersionString"] = version.split("+", maxsplit=1)[0]
    plist["CFBundleVersion"] = ".".join(str(n) for n in numeric_version(version)[:3])
    if bundle_id:
        plist["CFBundleIdentifier"] = bundle_id
    return plist


def windows_version_info(version: str, exe_name: str) -> object:
    """The Windows version resource (Properties → Details) of ``exe_name``.exe (needs PyInstaller)."""
    from PyInstaller.utils.win32 import versioninfo as vi  # type: ignore[import-untyped]

    numbers = numeric_version(version)
    strings = [
        vi.StringStruct("CompanyName", APP_NAME),
        vi.StringStruct("FileDescription", APP_NAME),
        vi.StringStruct("FileVersion", version),
        vi.StringStruct("InternalName", exe_name),
        vi.StringStruct("OriginalFilename", f"{exe_name}.exe"),
        vi.StringStruct("ProductName", APP_NAME),
        vi.StringStruct("ProductVersion", version),
    ]
    return vi.VSVersionInfo(
        ffi=vi.FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[
            vi.StringFileInfo([vi.StringTable("080904B0", strings)]),  # English (United Kingdom), Unicode
            vi.VarFileInfo([vi.VarStruct("Translation", [0x0809, 1200])]),
        ],
    )


def write_manifest(path: Path, version: str, modules: list[str]) -> Path:
    """Write ``bundle-manifest.json``: the version and every app module (``--selftest`` imports them)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version, "modules": modules}, indent=1), encoding="utf-8")
    return path
