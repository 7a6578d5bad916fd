"""Entry point of the ``inbox-triage`` command and ``python -m desktop``.

With no command it opens the desktop window on the profile; any command runs the command line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

_GLOBAL_FLAGS = ("-v", "--verbose")


def window_profile(args: Sequence[str]) -> tuple[bool, str | None]:
    """Whether ``args`` hold only global options (then the window opens), and the ``--profile`` given."""
    profile: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--profile" and rest:
            profile = rest.pop(0)
        elif arg.startswith("--profile="):
            profile = arg.split("=", 1)[1]
        elif arg not in _GLOBAL_FLAGS:
            return False, None
    return True, profile


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (no command) or run the command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    window, profile = window_profile(args)
    if window:
        from desktop.app.entry import run_app

        return run_app(profile)
    from desktop.cli.main import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
