"""Token use per provider per day survives in the database and adds up under concurrency."""

from __future__ import annotations

import threading
from datetime import date

from engine.storage.db import Database
from engine.storage.token_usage import DatabaseTokenUsageLedger


def test_totals_per_provider_and_day(db: Database) -> None:
    ledger = DatabaseTokenUsageLedger(db)
    day, other = date(2026, 11, 30), date(2026, 12, 1)
    ledger.record("openai", day, input_tokens=100, output_tokens=20)
    ledger.record("openai", day, input_tokens=50, output_tokens=5)
    ledger.record("claude", day, input_tokens=7, output_tokens=3)
    ledger.record("openai", other, input_tokens=1, output_tokens=1)
    usage = {u.provider: u for u in DatabaseTokenUsageLedger(db).usage(day)}
    assert (usage["openai"].requests, usage["openai"].input_tokens, usage["openai"].output_tokens) == (
        2,
        150,
        25,
    )
    assert usage["claude"].total_tokens == 10
    assert [u.provider for u in ledger.usage(other)] == ["openai"]


def test_concurrent_records_all_count(db: Database) -> None:
    ledger = DatabaseTokenUsageLedger(db)
    day = date(2026, 11, 30)

    def work() -> None:
        for _ in range(25):
            ledger.record("p", day, input_tokens=2, output_tokens=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [total] = ledger.usage(day)
    assert (total.requests, total.input_tokens, total.output_tokens) == (100, 200, 100)
