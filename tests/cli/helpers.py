"""Running the command line in-process in tests."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli.main import run_cli


class Cli:
    """Runs ``inbox-triage --profile P ...`` in-process with ``stdin``; returns (code, stdout, stderr)."""

    def __init__(
        self, profile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch | None = None
    ) -> None:
        self.profile = profile
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        self._capsys.readouterr()
        if self._monkeypatch is not None:
            self._monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = run_cli(["--profile", str(self.profile), *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = self._capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        """Run with ``--json`` (which must succeed) and decode the output."""
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    def audit(self, action: str) -> list[dict[str, Any]]:
        """Every audit event with ``action``, newest first."""
        events = self.json("audit", "list", "--action", action, "--limit", "100000")
        assert isinstance(events, list)
        return events
