"""Entry point of the ``inbox-triage`` command and ``python -m desktop``.

With no command it opens the desktop window on the profile; any command runs the command line;
``--selftest`` checks that this computer has everything the app needs (:mod:`desktop.selftest`).
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


def is_verbose(args: Sequence[str]) -> bool:
    """Whether ``-v``/``--verbose`` comes before the command (where the command line accepts it)."""
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in _GLOBAL_FLAGS:
            return True
        if arg == "--profile" and rest:
            rest.pop(0)
        elif not arg.startswith("-"):
            return False
    return False


def is_selftest(args: Sequence[str]) -> bool:
    """Whether ``args`` ask for the self-test (``--selftest`` among global options) or its Qt probe."""
    if not any(arg.startswith("--selftest") for arg in args):
        return False
    from desktop.selftest import QT_PROBE_FLAG, SELFTEST_FLAG

    if args[0] == QT_PROBE_FLAG:
        return True
    return SELFTEST_FLAG in args and window_profile([a for a in args if a != SELFTEST_FLAG])[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (no command), run the self-test (``--selftest``) or the command line.

    The window and the command line log to their rotating file in the platform's log folder and
    get the uncaught-error hook (a dialog in the window, one line on the command line).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if is_selftest(args):
        from desktop.selftest import main as selftest_main

        return selftest_main(args)
    from desktop import crash_handler
    from desktop.logging_setup import Mode, log_dir, setup_logging

    window, profile = window_profile(args)
    verbose = is_verbose(args)
    mode: Mode = "gui" if window else "cli"

    log_file = setup_logging(mode, verbose=verbose)
    crash_handler.install(mode, log_file=log_file, verbose=verbose)
    crash_handler.enable_native_crash_log(log_dir())
    if window:
        from desktop.app.entry import run_app

        return run_app(profile)
    from desktop.cli.main import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
