"""Benchmark and evaluation of the offline classifier.

Trains the local model on the shipped examples (timing a first training in the process, which
includes importing the training code, and a second one), then evaluates it two ways:

* 5-fold stratified cross-validation on the shipped examples (folds from
  ``engine.classify.fit.stratified_folds``, seeded, so every run uses the same split);
* the bundled demo mailbox (``connectors/demo/mailbox/manifest.json`` and its ``.eml`` files),
  each message parsed with ``engine.mail.parse.parse_message``, its body minimised with
  ``engine.mail.quoting.strip_quoted_and_signature``, and classified by the full offline
  classifier (no user rules; header signals included). Entries the manifest expects to be
  quarantined, and messages the parser quarantines, are left out and counted.

It also times single-email classification end to end (``OfflineClassifier.classify``).
Prints a per-category table; the last line is JSON with ``cv_accuracy``, ``demo_accuracy``,
``train_s`` (first training in the process), ``classify_ms_p50`` and ``classify_ms_p99``.

Usage: python bench/classifier_eval.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.categories import ALL_CATEGORIES  # noqa: E402
from engine.classify.classifier import OfflineClassifier  # noqa: E402
from engine.classify.dataset import load_shipped_examples  # noqa: E402
from engine.classify.fit import stratified_folds  # noqa: E402
from engine.classify.model import ClassifierInput, LabelledText, LocalClassifier  # noqa: E402

MANIFEST = ROOT / "connectors" / "demo" / "mailbox" / "manifest.json"
FOLDS = 5
SEED = 7


def as_input(example: LabelledText) -> ClassifierInput:
    """A shipped example as classifier input (shipped examples carry no headers)."""
    return ClassifierInput(example.subject, example.body, example.sender)


def cross_validate(examples: Sequence[LabelledText]) -> tuple[list[str], list[str]]:
    """Expected and predicted categories over 5 stratified folds of the shipped examples."""
    labels = [e.category for e in examples]
    expected: list[str] = []
    predicted: list[str] = []
    for train, test in stratified_folds(labels, FOLDS, seed=SEED):
        model = LocalClassifier.train([examples[i] for i in train])
        classifier = OfflineClassifier([], model)
        for i in test:
            expected.append(labels[i])
            predicted.append(classifier.classify(as_input(examples[i])).category)
    return expected, predicted


def load_demo() -> tuple[list[tuple[str, str, ClassifierInput]], list[str]] | None:
    """Demo mailbox items as (file, expected, input), and the files left out; ``None`` if unavailable."""
    if not MANIFEST.is_file():
        print(f"demo mailbox: {MANIFEST.relative_to(ROOT)} not found; skipping the demo evaluation")
        return None
    try:
        from engine.mail.model import ParsedEmail
        from engine.mail.parse import parse_message
        from engine.mail.quoting import strip_quoted_and_signature
    except ImportError as exc:
        print(f"demo mailbox: the email parser is not available ({exc}); skipping the demo evaluation")
        return None
    items: list[tuple[str, str, ClassifierInput]] = []
    left_out: list[str] = []
    for entry in json.loads(MANIFEST.read_text(encoding="utf-8")):
        name, expected = entry["file"], entry["expected"]
        parsed = parse_message((MANIFEST.parent / name).read_bytes())
        if expected not in ALL_CATEGORIES or not isinstance(parsed, ParsedEmail):
            left_out.append(f"{name} (expected {expected}, parsed as {type(parsed).__name__})")
            continue
        body = strip_quoted_and_signature(parsed.body_text)
        items.append((name, expected, ClassifierInput.from_parsed(parsed, body)))
    return items, left_out


def table(title: str, expected: Sequence[str], predicted: Sequence[str]) -> float:
    """Print precision, recall, F1 and support per category; return the accuracy."""
    print(f"\n{title}")
    print(f"  {'category':<14}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}")
    pairs = list(zip(expected, predicted, strict=True))
    for category in ALL_CATEGORIES:
        tp = sum(1 for e, p in pairs if e == category and p == category)
        said = sum(1 for _, p in pairs if p == category)
        support = sum(1 for e, _ in pairs if e == category)
        precision = tp / said if said else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"  {category:<14}{precision:>10.2f}{recall:>10.2f}{f1:>8.2f}{support:>9}")
    accuracy = sum(1 for e, p in pairs if e == p) / len(pairs) if pairs else 0.0
    print(f"  {'accuracy':<14}{accuracy:>28.3f}{len(pairs):>9}")
    return accuracy


def time_classify(
    classifier: OfflineClassifier, inputs: Sequence[ClassifierInput], rounds: int
) -> list[float]:
    """Milliseconds per ``classify`` call over ``rounds`` passes through ``inputs`` (after a warm-up)."""
    for item in inputs:
        classifier.classify(item)
    times = []
    for _ in range(rounds):
        for item in inputs:
            start = time.perf_counter()
            classifier.classify(item)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    """Run the evaluation and print the table and the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timing passes over the inputs (default 5)")
    args = parser.parse_args()

    examples = load_shipped_examples()
    start = time.perf_counter()
    model = LocalClassifier.train(examples)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    LocalClassifier.train(examples)
    train_warm_s = time.perf_counter() - start
    print(f"shipped examples: {len(examples)} {dict(Counter(e.category for e in examples))}")
    print(f"training: {train_s:.2f} s first (includes importing the training code), "
          f"{train_warm_s:.2f} s again")

    expected, predicted = cross_validate(examples)
    cv_accuracy = table(f"{FOLDS}-fold cross-validation on the shipped examples", expected, predicted)

    classifier = OfflineClassifier([], model)
    demo = load_demo()
    demo_accuracy: float | None = None
    demo_inputs: list[ClassifierInput] = []
    summary: dict[str, Any] = {}
    if demo is not None:
        items, left_out = demo
        results = [(name, want, classifier.classify(item)) for name, want, item in items]
        demo_inputs = [item for _, _, item in items]
        demo_accuracy = table("demo mailbox (quarantined entries excluded)", [w for _, w, _ in results],
                              [r.category for _, _, r in results])
        print(f"  left out: {len(left_out)}" + "".join(f"\n    {x}" for x in left_out))
        wrong = [(n, w, r) for n, w, r in results if w != r.category]
        print(f"  misclassified: {len(wrong)}")
        for name, want, result in wrong:
            got = f"{result.category} ({result.confidence:.2f}, {result.source})"
            print(f"    {name}: expected {want}, got {got} {'; '.join(result.reasons)}")
        summary = {"demo_n": len(items), "demo_left_out": len(left_out)}

    times = time_classify(classifier, [as_input(e) for e in examples] + demo_inputs, args.rounds)
    p50 = statistics.median(times)
    p99 = statistics.quantiles(times, n=100)[98]
    print(f"\nclassify (rules + headers + model, reasons included): {len(times)} calls, "
          f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {max(times):.3f} ms")
    print(json.dumps({
        "cv_accuracy": round(cv_accuracy, 4),
        "demo_accuracy": None if demo_accuracy is None else round(demo_accuracy, 4),
        "train_s": round(train_s, 3),
        "classify_ms_p50": round(p50, 4),
        "classify_ms_p99": round(p99, 4),
        "train_warm_s": round(train_warm_s, 3),
        **summary,
    }))


if __name__ == "__main__":
    main()
