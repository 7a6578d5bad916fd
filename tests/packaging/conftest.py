"""Shared by the packaging tests: the repository, packaging/ and its modules (a folder, not a package)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"

if str(PACKAGING) not in sys.path:
    sys.path.insert(0, str(PACKAGING))

import bundle_rules as rules  # noqa: E402
import icu_data  # noqa: E402

__all__ = ["PACKAGING", "REPO", "icu_data", "rules"]
