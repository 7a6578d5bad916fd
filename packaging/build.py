"""Build the one-folder bundle with packaging/inbox_triage.spec and report its size.

    python packaging/build.py                       # dist/InboxTriage (and dist/Inbox Triage.app on macOS)
    python packaging/build.py --dist D --work W     # elsewhere (tests build into a cache folder)

Needs the project installed in the running Python (``pip install -e '.[packaging]'``, or from
packaging/requirements-lock.txt as the release workflow does): the version comes from its
metadata. Prints the folder's size and file count; the last line is JSON. The installers are made
from the bundle by packaging/windows/inbox-triage.iss (Inno Setup) and packaging/macos/make_dmg.sh.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib.metadata import distributions
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bundle_rules as rules

PACKAGING = Path(__file__).resolve().parent
REPO = PACKAGING.parent
SPEC = PACKAGING / "inbox_triage.spec"
#: Everything whose content decides what the bundle holds (besides the installed packages).
INPUT_DIRS = ("engine", "connectors", "desktop", "packaging", "docs")
INPUT_FILES = ("pyproject.toml",)


@dataclass(frozen=True)
class BundleReport:
    """What a build produced."""

    folder: str
    executable: str
    bytes: int
    files: int
    build_s: float
    version: str

    @property
    def megabytes(self) -> float:
        """Size in MB (10^6 bytes)."""
        return self.bytes / 1_000_000


def bundle_folder(dist: Path) -> Path:
    """Where the bundle's files are: the .app's contents on macOS, else ``dist/InboxTriage``."""
    if rules.platform_key() == "macos":
        return dist / rules.MACOS_APP / "Contents"
    return dist / rules.COLLECT_NAME


def console_executable(dist: Path) -> Path:
    """The executable to run ``--selftest`` with (a console one where the OS makes the difference)."""
    key = rules.platform_key()
    if key == "macos":
        return dist / rules.MACOS_APP / "Contents" / "MacOS" / rules.GUI_EXE
    suffix = ".exe" if key == "windows" else ""
    return dist / rules.COLLECT_NAME / f"{rules.CONSOLE_EXE}{suffix}"


def measure(folder: Path) -> tuple[int, int]:
    """(bytes, files) of every regular file under ``folder`` (symlinks not counted twice)."""
    sizes = [path.stat().st_size for path in rules.iter_files(folder)]
    return sum(sizes), len(sizes)


def input_fingerprint() -> str:
    """A hash of every input of the build: the source tree's relevant files, the installed
    distributions (name and version), Python's version and the platform. Equal fingerprints mean
    an existing bundle can be reused."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{sys.platform}|{sys.executable}".encode())
    for name in sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions()):
        digest.update(name.encode())
    paths = [REPO / f for f in INPUT_FILES]
    for folder in INPUT_DIRS:
        paths += [p for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(paths):
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build(dist: Path, work: Path, *, log: Path | None = None) -> BundleReport:
    """Run PyInstaller on the spec into ``dist`` (intermediate files in ``work``); report the result."""
    from desktop.logging_setup import app_version

    dist.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work), str(SPEC),
    ]
    started = time.monotonic()
    env = {**os.environ, "PYTHONNOUSERSITE": "1"}
    if log is None:
        subprocess.run(command, check=True, cwd=REPO, env=env)  # noqa: S603 - our own command line
    else:
        with log.open("w", encoding="utf-8") as out:
            done = subprocess.run(  # noqa: S603
                command, check=False, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        if done.returncode != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
            raise RuntimeError(f"PyInstaller failed (exit {done.returncode}); the end of {log}:\n{tail}")
    took = time.monotonic() - started
    folder = bundle_folder(dist)
    size, files = measure(folder)
    return BundleReport(
        folder=str(folder),
        executable=str(console_executable(dist)),
        bytes=size,
        files=files,
        build_s=round(took, 1),
        version=app_version(),
    )


def main() -> None:
    """Build, then print the size and file count (JSON on the last line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller")
    args = parser.parse_args()
    report = build(args.dist, args.work)
    size = f"{report.megabytes:.1f} MB in {report.files} files"
    print(f"built {report.folder}: {size} ({report.build_s:.0f} s)", flush=True)
    print(json.dumps({**asdict(report), "megabytes": round(report.megabytes, 1)}))


if __name__ == "__main__":
    main()
