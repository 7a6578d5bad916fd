"""The bundled demo mailbox: raw emails written for the project, for a fictional office.

The office is Thornbury & Webb Print Studio Ltd, a 10-person print and design studio in Bristol
(``hello@thornburywebb.co.uk``). ``mailbox/`` holds one ``.eml`` file per message, exactly as a
mail server would hand it over (LF line endings), and ``mailbox/manifest.json`` says, for each
file, what a sensible office person would file it under (a category, or ``"quarantine"`` for the
few files that are not emails at all), which thread it belongs to and what it exercises.

Every name, address, phone number and company is fictional: domains are reserved example
domains, phone numbers come from Ofcom's drama ranges (0117 496 0xxx, 07700 900xxx) and the
National Insurance number uses HMRC's example prefix ``QQ``.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_NAME", "QUARANTINE", "DemoEntry", "demo_mailbox_dir", "demo_manifest"]

#: The ``expected`` value of files that the engine must quarantine instead of classifying.
QUARANTINE = "quarantine"
#: The manifest's file name inside the mailbox folder.
MANIFEST_NAME = "manifest.json"
_MAILBOX = "mailbox"


@dataclass(frozen=True)
class DemoEntry:
    """One file of the demo mailbox and how it should end up.

    ``expected`` is a category name (see :mod:`engine.categories`) or :data:`QUARANTINE`;
    ``thread`` names the conversation the message belongs to, if any; ``notes`` says what the
    message is and which parsing case it exercises.
    """

    file: str
    expected: str
    thread: str | None
    notes: str


def demo_mailbox_dir() -> Path:
    """The folder holding the demo ``.eml`` files and the manifest, as a real filesystem path.

    Works from a source checkout, an installed wheel and a PyInstaller bundle (where
    ``importlib.resources`` resolves into the unpacked bundle). Should the package ever be
    imported from a zip archive, the files are copied once to a temporary folder that is removed
    when the process exits.
    """
    return _mailbox_dir()


@cache
def _mailbox_dir() -> Path:
    root = resources.files(__name__).joinpath(_MAILBOX)
    if isinstance(root, Path):
        return root
    target = Path(tempfile.mkdtemp(prefix="inbox-triage-demo-mailbox-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    return _copy_files(root, target)


def _copy_files(root: Traversable, target: Path) -> Path:
    """Copy the files directly inside ``root`` (a resource folder) into ``target``; return it."""
    for item in root.iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
    return target


def demo_manifest() -> list[DemoEntry]:
    """The manifest's entries, in file-name order."""
    raw: list[dict[str, Any]] = json.loads((demo_mailbox_dir() / MANIFEST_NAME).read_text("utf-8"))
    entries = [
        DemoEntry(
            file=str(item["file"]),
            expected=str(item["expected"]),
            thread=str(item["thread"]) if item.get("thread") else None,
            notes=str(item.get("notes", "")),
        )
        for item in raw
    ]
    return sorted(entries, key=lambda entry: entry.file)
