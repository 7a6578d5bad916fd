"""The desktop package's exception tree (the command line prints these as one ``error:`` line)."""

from __future__ import annotations


class DesktopError(Exception):
    """Base of every error the desktop package raises on purpose."""
