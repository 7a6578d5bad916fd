"""Benchmark: emails classified and drafted through the provider chain at a bounded rate.

A loopback OpenAI-compatible server answers every chat completion after 300 ms. Generated emails
(bench/mailgen.py) are parsed, minimised and sent through ``engine.ai.ProviderChain`` with one
``connectors.providers.OpenAICompatibleProvider`` (redaction on) by a pool of 8 worker threads:
each email is classified, then drafted — two calls. The provider allows 8 concurrent requests and
600 requests per minute.

Two bounds limit how fast this can go, and the slower one applies:

* concurrency: calls × 0.3 s / 8 (800 calls → 30 s);
* the rate limit: calls / limit minutes (800 calls at 600/min → 80 s). The limiter paces starts
  evenly (60/limit s apart after a small burst) and never lets more than ``limit`` starts into any
  60-second window; a limiter that allowed the whole minute's quota at once could finish 800 calls
  in about 60 s + 200 × 0.3 / 8 ≈ 67.5 s (the bound is printed too), at the price of bursts that
  providers enforcing per-second quotas would answer with 429s.

Prints elapsed/ideal and the highest request rate seen by the server in any 60-second window and
any 1-second window (by arrival time). Last line: JSON
``{"calls", "elapsed_s", "ideal_s", "ratio", "max_rate_per_min", "limit_per_min", ...}``.

Usage: python bench/llm_concurrency.py [--emails N] [--limit PER_MIN] [--workers 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.mailgen import generate
from connectors.http import EgressPolicy, HttpClientFactory
from connectors.providers import OpenAICompatibleProvider
from engine.ai import ProviderChain
from engine.ai.settings import ProviderSettings
from engine.classify.result import Classification
from engine.drafting.templates import Draft
from engine.mail.model import ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.quoting import strip_quoted_and_signature
from tests.support_http.openai import OpenAIServer, schema_answer
from tests.support_http.secrets import DictSecrets

LATENCY_S = 0.3


def max_in_window(times: list[float], window: float) -> int:
    """The most arrivals in any half-open window of ``window`` seconds."""
    times = sorted(times)
    best = 0
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def burst_bound(calls: int, limit: int, workers: int) -> float:
    """Fastest finish if the whole per-minute quota could start at once (the sliding-window bound)."""
    full_minutes, rest = divmod(calls, limit)
    if rest == 0:
        full_minutes, rest = full_minutes - 1, limit
    return full_minutes * 60.0 + -(-rest // workers) * LATENCY_S


def load_emails(count: int) -> list[ParsedEmail]:
    """Generated emails, parsed (quarantined ones skipped, more generated to make up the count)."""
    emails: list[ParsedEmail] = []
    for item in generate(count * 2):
        parsed = parse_message(item.raw)
        if isinstance(parsed, ParsedEmail):
            emails.append(parsed)
        if len(emails) == count:
            break
    return emails


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=400)
    parser.add_argument("--limit", type=int, default=600, help="requests per minute")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="40 emails at 6000/min (a smoke test, ~3 s)")
    args = parser.parse_args()
    if args.quick:
        args.emails, args.limit = 40, 6000

    emails = load_emails(args.emails)
    template = Draft(
        "Re: your email", "Dear customer,\n\nThank you for your email.\n\nThornbury & Webb", "other"
    )
    with OpenAIServer(api_key="sk-bench", responder=schema_answer, latency_s=LATENCY_S) as server:
        settings = ProviderSettings(
            name="bench",
            kind="openai",
            base_url=f"{server.url}/v1",
            model="bench-model",
            timeout_s=30.0,
            requests_per_minute=args.limit,
            max_concurrency=args.workers,
        )
        factory = HttpClientFactory(EgressPolicy.from_urls([server.url]))
        with OpenAICompatibleProvider(
            settings, factory, DictSecrets({settings.secret_name: "sk-bench"})
        ) as provider:
            chain = ProviderChain([provider], office_name="Thornbury & Webb")

            def work(email: ParsedEmail) -> tuple[bool, bool]:
                body = strip_quoted_and_signature(email.body_text)
                local = Classification("enquiry", 0.8, ("bench",), "model")
                classified = chain.classify(email, body, local)
                drafted = chain.draft(
                    email,
                    body,
                    category=classified.classification.category,
                    facts="Open 9-5.",
                    style="",
                    signature="Thornbury & Webb",
                    template_draft=template,
                )
                return classified.provider is not None, drafted.source == "ai"

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                results = list(pool.map(work, emails))
            elapsed = time.perf_counter() - started
        arrivals = [r.at for r in server.recorded("POST")]

    calls = len(arrivals)
    failed = sum(1 for ok_c, ok_d in results for ok in (ok_c, ok_d) if not ok)
    concurrency_bound = calls * LATENCY_S / args.workers
    rate_bound = calls / args.limit * 60.0
    ideal = max(concurrency_bound, rate_bound)
    per_min = max_in_window(arrivals, 60.0)
    per_s = max_in_window(arrivals, 1.0)
    print(
        f"emails {len(emails)}, calls {calls} (classify + draft), "
        f"workers {args.workers}, limit {args.limit}/min"
    )
    print(
        f"concurrency bound {concurrency_bound:.1f} s, rate-limit bound {rate_bound:.1f} s "
        f"(a burst-the-quota limiter's bound: {burst_bound(calls, args.limit, args.workers):.1f} s)"
    )
    print(f"elapsed {elapsed:.1f} s, ideal {ideal:.1f} s, ratio {elapsed / ideal:.3f}")
    print(f"highest rate: {per_min} requests in any 60 s (limit {args.limit}), {per_s} in any 1 s")
    print(f"answers not from the provider: {failed}")
    print(
        json.dumps(
            {
                "calls": calls,
                "elapsed_s": round(elapsed, 2),
                "ideal_s": round(ideal, 2),
                "ratio": round(elapsed / ideal, 3),
                "max_rate_per_min": per_min,
                "limit_per_min": args.limit,
                "max_rate_per_s": per_s,
                "fallbacks": failed,
            }
        )
    )


if __name__ == "__main__":
    main()
