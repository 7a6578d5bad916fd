"""The Linux bundle, built from packaging/inbox_triage.spec, runs: its --selftest passes offscreen.

This is the proof for the Windows and macOS installers too (the same spec builds them): a hidden
import, data file or Qt plugin missing from the bundle makes the bundled ``--selftest`` fail (shown
here on a copy with files removed). The build (about a minute on two cores) is cached outside the
repository, keyed by a fingerprint of every input (source, packaging, installed packages); under
CI=true it always rebuilds, keeping only PyInstaller's own incremental work folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, REPO, icu_data, rules

pytestmark = pytest.mark.slow

#: The unpacked Linux bundle must not grow past this (MB, 10^6 bytes): the issue's target.
SIZE_BUDGET_MB = 200
SELFTEST_TIMEOUT_S = 180
WINDOW_TIMEOUT_S = 90
ON_CI = os.environ.get("CI") == "true"


def _build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("inbox_triage_build", PACKAGING / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _ensure_pyinstaller() -> None:
    """PyInstaller comes with the dev extra; install it from the packaging extra when it is missing."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        import tomllib

        extra = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "optional-dependencies"
        ]["packaging"]
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *extra], check=False)
        if done.returncode != 0:
            if ON_CI:
                pytest.fail("PyInstaller is missing and could not be installed")
            pytest.skip("PyInstaller is not installed: pip install -e '.[packaging]'")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("INBOX_TRIAGE_BUNDLE_CACHE", Path(base) / "inbox-triage" / "bundle-test"))


@pytest.fixture(scope="module")
def bundle() -> dict[str, object]:
    """The built bundle's report (folder, executable, bytes, files, build_s), reused when inputs match."""
    _ensure_pyinstaller()
    build = _build_module()
    root = _cache_root()
    dist, work, stamp = root / "dist", root / "work", root / "stamp.json"
    fingerprint = build.input_fingerprint()
    if not ON_CI and stamp.is_file():
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fingerprint and Path(saved["report"]["executable"]).is_file():
            return {**saved["report"], "reused": True}
    shutil.rmtree(dist, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    from dataclasses import asdict

    report = asdict(build.build(dist, work, log=root / "build.log"))
    stamp.write_text(json.dumps({"fingerprint": fingerprint, "report": report}), encoding="utf-8")
    return {**report, "reused": False}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "INBOX_TRIAGE_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        INBOX_TRIAGE_LOG_DIR=str(tmp_path / "logs"),
        INBOX_TRIAGE_HOME=str(tmp_path / "home-profile"),
    )
    env.update(extra)
    return env


def _selftest(executable: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(executable), "--selftest"],
        capture_output=True,
        text=True,
        timeout=SELFTEST_TIMEOUT_S,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd="/",
    )


def _lines(output: str) -> dict[str, str]:
    """{check name: outcome} from the self-test's lines."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        outcome, _, rest = line.partition(" ")
        if outcome in ("OK", "WARN", "FAIL"):
            found[rest.strip().split(":")[0]] = outcome
    return found


def test_the_bundled_selftest_passes_offscreen(bundle: dict[str, object], tmp_path: Path) -> None:
    done = _selftest(str(bundle["executable"]), _env(tmp_path))
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(installed app)" in done.stdout.splitlines()[0]
    outcomes = _lines(done.stdout)
    names = [
        "files",
        "modules",
        "qt",
        "database",
        "postgres driver",
        "keyring",
        "classifier",
        "pipeline",
        "scheduler",
        "logs",
    ]
    assert list(outcomes) == names
    assert all(outcomes[n] == "OK" for n in names if n != "keyring")
    assert outcomes["keyring"] in ("OK", "WARN")
    assert "platform 'offscreen'" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("self-test passed")


def test_the_bundle_holds_only_what_the_app_uses(bundle: dict[str, object]) -> None:
    folder = Path(str(bundle["folder"]))
    internal = folder / "_internal"
    files = [p.relative_to(folder).as_posix() for p in rules.iter_files(folder)]
    megabytes = int(str(bundle["bytes"])) / 1_000_000
    print(
        json.dumps(
            {
                "bundle_mb": round(megabytes, 1),
                "files": len(files),
                "build_s": bundle["build_s"],
                "reused": bundle["reused"],
            }
        )
    )
    assert megabytes <= SIZE_BUDGET_MB, f"the bundle grew to {megabytes:.0f} MB"
    assert not [f for f in files if f.endswith(".qm") or "/translations/" in f]
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert {p.name for p in (plugins / "platforms").iterdir()} == {"libqoffscreen.so", "libqxcb.so"}
    assert {p.name for p in (plugins / "imageformats").iterdir()} == {"libqsvg.so", "libqico.so"}
    assert {p.name for p in plugins.iterdir()} <= set(rules.QT_PLUGINS)
    assert not [f for f in files if "libQt6Wayland" in f or "libQt6Qml" in f or "libQt6Quick" in f]
    assert not [f for f in files if "_tkinter" in f or "/_testcapi" in f]
    left_out = ("_internal/sklearn", "_internal/scipy", "_internal/numpy/random", "_internal/numpy/fft")
    assert not [f for f in files if f.startswith(left_out)]
    for needed in (
        "engine/storage/migrations/env.py",
        "engine/storage/migrations/script.py.mako",
        "engine/classify/data/examples.jsonl",
        "connectors/demo/mailbox/manifest.json",
        "desktop/app/resources/inbox-triage.png",
        "docs/desktop.md",
        rules.BUNDLE_MANIFEST,
    ):
        assert (internal / needed).is_file(), needed
    manifest = json.loads((internal / rules.BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    assert manifest["modules"] == rules.app_modules(REPO)
    assert not rules.has_debug_info(
        internal / f"libpython{sys.version_info.major}.{sys.version_info.minor}.so.1.0"
    )
    icu = sorted((internal / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    assert icu, "ICU's data library is missing"
    names = icu_data.parse_package(icu_data.read_library(icu[0]).blob).names()
    assert names and all(icu_data.keep_item(name) for name in names), "ICU's data was not trimmed"


def test_the_bundled_qt_and_icu_compute_what_the_wheel_computes(bundle: dict[str, object]) -> None:
    """Collation, codecs, time-zone names and case mapping with the bundle's Qt and trimmed ICU data."""
    qt_lib = Path(str(bundle["folder"])) / "_internal" / "PySide6" / "Qt" / "lib"
    results = []
    for library_path in (None, qt_lib):
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        if library_path is not None:
            env["LD_LIBRARY_PATH"] = str(library_path)  # searched before the wheel's RUNPATH
        done = subprocess.run([sys.executable, str(Path(__file__).with_name("icu_probe.py"))],
                              capture_output=True, text=True, env={**env, "QT_QPA_PLATFORM": "offscreen"},
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    wheel, bundled = results
    assert bundled.pop("loaded") == [str(next(qt_lib.glob("libicudata.so.*")))]
    wheel.pop("loaded")
    assert bundled == wheel


def test_a_bundle_missing_a_data_file_or_a_plugin_fails_its_selftest(
    bundle: dict[str, object], tmp_path: Path
) -> None:
    folder = Path(str(bundle["folder"]))
    broken = tmp_path / "broken"
    subprocess.run(
        ["cp", "-al", str(folder), str(broken)], check=True
    )  # hard links: fast, original untouched
    internal = broken / "_internal"
    (internal / "engine" / "storage" / "migrations" / "script.py.mako").unlink()
    (internal / "PySide6" / "Qt" / "plugins" / "imageformats" / "libqsvg.so").unlink()
    manifest = json.loads((internal / rules.BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    manifest["modules"].append("connectors.not_in_the_bundle")
    (internal / rules.BUNDLE_MANIFEST).unlink()  # a hard link: replace, do not edit in place
    (internal / rules.BUNDLE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    done = _selftest(broken / rules.CONSOLE_EXE, _env(tmp_path))
    assert done.returncode == 1, done.stdout
    outcomes = _lines(done.stdout)
    assert outcomes["files"] == "FAIL" and "script.py.mako" in done.stdout
    assert outcomes["qt"] == "FAIL" and "cannot read svg" in done.stdout
    assert outcomes["modules"] == "FAIL" and "connectors.not_in_the_bundle" in done.stdout
    assert outcomes["pipeline"] == "OK"
    assert "self-test FAILED: 3 of 10" in done.stdout


def test_the_bundled_window_opens_on_a_demo_profile_and_logs(
    bundle: dict[str, object], tmp_path: Path
) -> None:
    from desktop.wiring import create_demo_profile

    profile = tmp_path / "demo"
    create_demo_profile(profile)
    mark = tmp_path / "mark.txt"
    env = _env(tmp_path, INBOX_TRIAGE_STARTUP_MARK=str(mark))
    errors = tmp_path / "stderr.txt"
    started = time.time()
    with (
        errors.open("w", encoding="utf-8") as err,
        subprocess.Popen(
            [str(bundle["executable"]), "--profile", str(profile)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        ) as process,
    ):
        try:
            deadline = time.monotonic() + WINDOW_TIMEOUT_S
            marks: dict[str, float] = {}
            while "ready" not in marks:
                assert process.poll() is None, errors.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, f"no window within {WINDOW_TIMEOUT_S} s: {marks}"
                time.sleep(0.05)  # polling a file the app writes; no event to wait on across processes
                if mark.exists():
                    lines = mark.read_text(encoding="utf-8").splitlines()
                    marks = {what: float(when) for what, _, when in (line.partition(" ") for line in lines)}
        finally:
            process.terminate()
            process.wait(20)
    print(
        json.dumps(
            {
                "bundle_window_shown_s": round(marks["painted"] - started, 3),
                "bundle_queue_ready_s": round(marks["ready"] - started, 3),
            }
        )
    )
    log = (tmp_path / "logs" / "inbox-triage.log").read_text(encoding="utf-8")
    assert "(installed app)" in log and "; window" in log


@pytest.mark.gui
def test_the_bundled_qt_runs_on_a_real_x_display(
    bundle: dict[str, object], tmp_path: Path, xvfb_display: str
) -> None:
    done = _selftest(str(bundle["executable"]), _env(tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=xvfb_display))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "platform 'xcb'" in done.stdout
