"""What every command handler receives: the parsed arguments and a lazily opened service."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from engine.service import TriageService


@dataclass
class CommandContext:
    """Arguments plus the profile's service, opened on first use and closed at exit."""

    args: argparse.Namespace
    _service: TriageService | None = field(default=None, init=False)

    @property
    def service(self) -> TriageService:
        """The profile's engine (migrated on first open)."""
        if self._service is None:
            from desktop.wiring import open_service

            self._service = open_service(self.args.profile)
        return self._service

    def close(self) -> None:
        """Close the service if it was opened."""
        if self._service is not None:
            self._service.close()
            self._service = None
