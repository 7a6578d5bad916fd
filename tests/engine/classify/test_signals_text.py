"""Header evidence arithmetic, sender tokens, the model's text and the feature analyzers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.classify.features import char_features, word_features
from engine.classify.result import Classification
from engine.classify.signals import HEADER_LIKELIHOOD_RATIO, header_signal, with_header_evidence
from engine.classify.text import MAX_BODY_CHARS, ClassifierInput, model_text, sender_tokens
from engine.mail.model import Address, ParsedEmail


def test_header_evidence_raises_notification_and_keeps_a_distribution() -> None:
    before = {"notification": 0.1, "spam": 0.6, "other": 0.3}
    after = with_header_evidence(before)
    assert sum(after.values()) == pytest.approx(1.0)
    assert after["notification"] > before["notification"]
    odds_before = before["notification"] / before["spam"]
    assert after["notification"] / after["spam"] == pytest.approx(odds_before * HEADER_LIKELIHOOD_RATIO)
    assert after["spam"] / after["other"] == pytest.approx(before["spam"] / before["other"])


def test_header_evidence_without_notification_mass_changes_nothing() -> None:
    assert with_header_evidence({"spam": 1.0, "notification": 0.0}) == {"spam": 1.0, "notification": 0.0}


def test_header_signal_describes_what_was_seen() -> None:
    assert header_signal(ClassifierInput("s", "b", "a@b.uk")) is None
    automatic = ClassifierInput("s", "b", "a@b.uk", auto_submitted=True)
    assert header_signal(automatic) == "headers: marked as automatic mail"
    assert header_signal(ClassifierInput("s", "b", "a@b.uk", list_id="\x00")) == "headers: mailing list"


def test_sender_tokens_name_domain_labels_and_roles() -> None:
    assert sender_tokens("No-Reply@Royalmail.com") == ["zzrolenoreply", "zzdomroyalmail", "zzdomcom"]
    assert sender_tokens("jane.holt@gmail.com") == ["zzdomgmail", "zzdomcom"]
    assert sender_tokens("alerts.billing@bank.co.uk") == ["zzrolealerts", "zzrolebilling", "zzdombank",
                                                         "zzdomco", "zzdomuk"]
    assert sender_tokens("") == []
    assert sender_tokens("not an address") == []


def test_model_text_weights_the_subject_and_caps_the_body() -> None:
    text = model_text("Hello  there", "x" * (MAX_BODY_CHARS + 500), "a@b.uk")
    assert text.startswith("Hello there\nHello there\n")
    assert text.count("x") == MAX_BODY_CHARS
    assert text.endswith("zzdomb zzdomuk")


def test_analyzers() -> None:
    assert word_features("Not happy, REFUND!") == ["not", "happy", "refund", "not happy", "happy refund"]
    grams = char_features("Hi zzdomgmail")
    assert grams == [" hi", "hi ", " hi "]


def test_input_from_a_parsed_email() -> None:
    email = ParsedEmail(
        message_id="<1@x>", subject="Order", sender=Address("Jane", "jane@example.co.uk"), reply_to=(),
        to=(), cc=(), date=datetime(2026, 11, 30, tzinfo=UTC), in_reply_to=None, references=(),
        body_text="full > quoted", body_html=None, attachments=(), auto_submitted=True, list_id="<l.example>",
    )
    item = ClassifierInput.from_parsed(email, "minimised")
    assert item == ClassifierInput("Order", "minimised", "jane@example.co.uk", True, "<l.example>")
    no_sender = ClassifierInput.from_parsed(ParsedEmail(**{**email.__dict__, "sender": None}), "b")
    assert no_sender.sender == ""


def test_classification_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="confidence"):
        Classification("order", 1.5, (), "model")
    with pytest.raises(ValueError, match="source"):
        Classification("order", 0.5, (), "llm")
