"""The Windows and macOS installer scripts and the release workflow say what they must.

Inno Setup, hdiutil and codesign do not run on Linux, so these read the scripts; the macOS
scripts' argument handling and their "skipped" paths do run here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, REPO, rules

ISS = PACKAGING / "windows" / "inbox-triage.iss"
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
MACOS = PACKAGING / "macos"


def _iss_setting(name: str) -> str:
    match = re.search(rf"^{name}=(.*)$", ISS.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, name
    return match.group(1).strip()


def test_the_windows_installer_is_named_by_version_and_uses_the_app_icon() -> None:
    assert _iss_setting("OutputBaseFilename") == "InboxTriage-Setup-{#AppVersion}"
    icon = (ISS.parent / _iss_setting("SetupIconFile").replace("\\", "/")).resolve()
    assert icon == REPO / "desktop" / "app" / "resources" / "inbox-triage.ico"
    assert icon.is_file()
    assert _iss_setting("PrivilegesRequired") == "lowest"


def test_the_windows_installer_starts_the_windowed_executable_from_the_start_menu() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert f'#define AppExe "{rules.GUI_EXE}.exe"' in text
    assert re.search(r'^Name: "\{autoprograms\}\\\{#AppName\}"; Filename: "\{app\}\\\{#AppExe\}"', text, re.M)
    source = re.search(r'#define SourceDir "(.*)"', text)
    assert source is not None
    assert (ISS.parent / source.group(1).replace("\\", "/")).resolve() == REPO / "dist" / rules.COLLECT_NAME


def test_start_at_sign_in_is_an_unticked_task() -> None:
    text = ISS.read_text(encoding="utf-8")
    task = re.search(r'^Name: "startatlogin";.*$', text, re.M)
    assert task is not None and "Flags: unchecked" in task.group(0)
    assert re.search(r'^Name: "\{autostartup\}\\.*Tasks: startatlogin$', text, re.M)


def test_uninstall_deletes_user_data_only_when_ticked_and_never_silently() -> None:
    text = ISS.read_text(encoding="utf-8")
    code = text[text.index("[Code]") :]
    assert "DeleteBox.Checked := False;" in code
    assert "if UninstallSilent() then" in code
    assert "DeleteUserData := Result and DeleteBox.Checked;" in code
    assert re.search(r"usPostUninstall\) and DeleteUserData and DirExists", code)
    assert code.count("DelTree(") == 1
    # the data folder is where platformdirs puts the profile and the logs on Windows
    assert "ExpandConstant('{localappdata}\\{#DataDirName}')" in code
    assert '#define DataDirName "Inbox Triage"' in text
    assert "[UninstallDelete]" not in text


@pytest.mark.parametrize("script", ["make_dmg.sh", "sign_and_notarize.sh"])
def test_the_macos_scripts_parse(script: str) -> None:
    subprocess.run(["bash", "-n", str(MACOS / script)], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(MACOS / script)], check=True)


def _run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MACOS_", "APPLE_"))}
    return subprocess.run(
        ["bash", str(MACOS / script), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **env},
    )


def test_signing_is_skipped_with_a_clear_message_without_a_certificate(tmp_path: Path) -> None:
    app = tmp_path / "Inbox Triage.app"
    done = _run("sign_and_notarize.sh", "app", str(app))
    assert done.returncode == 0
    assert "SKIPPED" in done.stdout and "MACOS_CERT_P12_BASE64" in done.stdout
    done = _run("sign_and_notarize.sh", "dmg", str(tmp_path / "x.dmg"), MACOS_CERT_P12_BASE64="")
    assert done.returncode == 0 and "notarisation SKIPPED" in done.stdout


@pytest.mark.skipif(os.uname().sysname == "Darwin", reason="checks the refusal on other systems")
def test_with_a_certificate_the_scripts_insist_on_macos(tmp_path: Path) -> None:
    done = _run(
        "sign_and_notarize.sh", "app", str(tmp_path), MACOS_CERT_P12_BASE64="eA==", MACOS_CERT_PASSWORD="p"
    )
    assert done.returncode == 2 and "macOS only" in done.stderr
    assert _run("sign_and_notarize.sh", "frobnicate", "x").returncode == 2
    done = _run("make_dmg.sh", str(tmp_path / "Inbox Triage.app"))
    assert done.returncode == 2 and "macOS only" in done.stderr


def test_the_release_workflow_builds_everywhere_from_the_lock_and_self_tests() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert re.search(r"^on:\n  push:\n    tags: \[\"v\*\"\]\n  workflow_dispatch:", text, re.M)
    for runner in ("windows-latest", "macos-latest", "ubuntu-24.04"):
        assert f"runs-on: {runner}" in text
    assert text.count("--require-hashes --no-deps -r packaging/requirements-lock.txt") == 3
    assert text.count("python packaging/build.py") == 3
    assert "dist/InboxTriage/inbox-triage --selftest" in text
    assert "dist/InboxTriage/inbox-triage.exe --selftest" in text
    assert '"dist/Inbox Triage.app/Contents/MacOS/InboxTriage" --selftest' in text
    assert "packaging\\windows\\inbox-triage.iss" in text
    assert "path: dist/InboxTriage-Setup-${{ steps.version.outputs.version }}.exe" in text
    assert "bash packaging/macos/make_dmg.sh" in text
    assert text.count("actions/upload-artifact@v4") == 3
    for secret in (
        "MACOS_CERT_P12_BASE64",
        "MACOS_CERT_PASSWORD",
        "APPLE_ID",
        "APPLE_TEAM_ID",
        "APPLE_APP_PASSWORD",
    ):
        assert f"${{{{ secrets.{secret} }}}}" in text
    assert "\t" not in text
