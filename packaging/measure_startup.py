"""Start-up of the bundled app beside the same from source, and the bundle's size.

Launches each way several times on one triaged demo profile under the offscreen Qt platform, with
``INBOX_TRIAGE_STARTUP_MARK`` pointing at a file the app appends to (the mechanism bench/startup.py
uses): ``painted`` when the window is first drawn, ``ready`` when the review queue is loaded.
Reports medians; the last line is JSON.

    python packaging/measure_startup.py --bundle dist/InboxTriage/inbox-triage [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
REPO = PACKAGING.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(PACKAGING))

from bench import startup  # noqa: E402


def launch(command: list[str], root: Path, mark: Path, logs: Path) -> dict[str, float]:
    """One launch of ``command`` (see ``bench/startup.py``), its logs kept out of the user's folder."""
    return startup.launch(root, mark, command=command, extra_env={"INBOX_TRIAGE_LOG_DIR": str(logs)})


def medians(results: list[dict[str, float]]) -> dict[str, float]:
    """Median of each figure."""
    return {key: round(statistics.median(r[key] for r in results), 3) for key in results[0]}


def main() -> None:
    """Measure (see the module docstring)."""
    import build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the bundle's console executable")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    executable = args.bundle.resolve()
    size, files = build.measure(executable.parent)
    ways = {"source": [sys.executable, "-m", "desktop"], "bundle": [str(executable)]}
    with tempfile.TemporaryDirectory(prefix="inbox-triage-startup-") as tmp:
        root = Path(tmp) / "demo"
        startup.prepare(root)
        figures = {}
        mark, logs = Path(tmp) / "mark.txt", Path(tmp) / "logs"
        for name, command in ways.items():
            launch(command, root, mark, logs)  # warm the file cache once
            figures[name] = medians([launch(command, root, mark, logs) for _ in range(args.runs)])
    print(f"bundle: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB) in {files} files")
    for name, figure in figures.items():
        shown, ready = figure["shown_s"], figure["ready_s"]
        print(f"{name:>6}: window shown after {shown:.3f} s, queue loaded after {ready:.3f} s", end="")
        print(f" (median of {args.runs})")
    print(json.dumps({"bundle_bytes": size, "bundle_files": files, "runs": args.runs, **figures}))


if __name__ == "__main__":
    main()
