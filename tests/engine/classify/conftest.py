"""Shared fixtures for the classifier tests: the shipped examples and one model trained on them."""

from __future__ import annotations

import pytest

from engine.classify.dataset import load_shipped_examples
from engine.classify.model import LocalClassifier
from engine.classify.text import LabelledText


@pytest.fixture(scope="session")
def shipped() -> list[LabelledText]:
    """The labelled examples shipped with the app."""
    return load_shipped_examples()


@pytest.fixture(scope="session")
def trained(shipped: list[LabelledText]) -> LocalClassifier:
    """A model trained on the shipped examples (trained once per test session)."""
    return LocalClassifier.train(shipped)
