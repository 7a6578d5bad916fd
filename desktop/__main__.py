"""Entry point of the ``inbox-triage`` command and ``python -m desktop``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (the desktop window opens when no command is given, once it lands)."""
    from desktop.cli.main import run_cli

    args = list(sys.argv[1:] if argv is None else argv)
    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
