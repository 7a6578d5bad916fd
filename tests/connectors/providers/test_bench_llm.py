"""The LLM concurrency benchmark's quick mode runs, keeps to its limit and to the concurrency bound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "llm_concurrency.py"


def test_quick_benchmark() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["calls"] == 80
    assert figures["fallbacks"] == 0
    assert figures["max_rate_per_min"] <= figures["limit_per_min"]
    assert figures["ratio"] <= 1.5  # 1.02 on an idle machine; shared CI cores get some slack
