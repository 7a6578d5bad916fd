"""The offline classifier facade: rules first, then header signals weighed with the model."""

from __future__ import annotations

import pytest

from engine.classify.classifier import OfflineClassifier
from engine.classify.model import ClassifierInput, LocalClassifier
from engine.classify.rules import Rule
from engine.errors import ConfigurationError

COMPLAINT = ClassifierInput(
    subject="Really unhappy with the banners",
    body="The banners arrived late and damaged. This is not acceptable and I want a refund.",
    sender="billing@supplier.example",
)
PARCEL = ClassifierInput(
    subject="Your parcel is on its way",
    body="Your parcel will be delivered today between 10:00 and 12:00. Track it online.",
    sender="updates@couriers.example",
)
PHISHING = ClassifierInput(
    subject="Account suspended - verify your password now",
    body="Your mailbox has been suspended. Click the link and enter your password within 24 hours to restore "
         "access or your account will be deleted.",
    sender="security@mail-verify-portal.top",
)


def test_a_matching_rule_beats_the_model(trained: LocalClassifier) -> None:
    assert trained.classify(COMPLAINT).category == "complaint"
    classifier = OfflineClassifier([Rule("sender", "billing@supplier.example", "billing")], trained)
    result = classifier.classify(COMPLAINT)
    assert (result.category, result.confidence, result.source) == ("billing", 1.0, "rule")
    assert result.reasons == ("rule: sender billing@supplier.example → billing",)


def test_rules_are_tried_in_order(trained: LocalClassifier) -> None:
    rules = [Rule("keyword", "refund", "complaint"), Rule("domain", "supplier.example", "billing")]
    assert OfflineClassifier(rules, trained).classify(COMPLAINT).category == "complaint"
    assert OfflineClassifier(rules[::-1], trained).classify(COMPLAINT).category == "billing"
    assert OfflineClassifier(rules, trained).rules == tuple(rules)


def test_without_a_matching_rule_the_model_decides(trained: LocalClassifier) -> None:
    classifier = OfflineClassifier([Rule("domain", "elsewhere.example", "spam")], trained)
    assert classifier.classify(COMPLAINT) == trained.classify(COMPLAINT)


def test_invalid_rules_are_refused_when_the_classifier_is_built(trained: LocalClassifier) -> None:
    with pytest.raises(ConfigurationError, match="unknown category"):
        OfflineClassifier([Rule("keyword", "refund", "refunds")], trained)


def test_automated_mail_headers_make_a_notification(trained: LocalClassifier) -> None:
    classifier = OfflineClassifier([], trained)
    plain = classifier.classify(PARCEL)
    flagged = classifier.classify(ClassifierInput(**{**PARCEL.__dict__, "auto_submitted": True}))
    assert flagged.category == "notification"
    assert flagged.source == "headers"
    assert flagged.reasons[0] == "headers: marked as automatic mail"
    assert flagged.confidence >= plain.confidence
    assert 0.0 <= flagged.confidence <= 1.0


def test_a_mailing_list_id_makes_an_ambiguous_email_a_notification(trained: LocalClassifier) -> None:
    item = ClassifierInput(subject="November update", body="Here is what has been happening this month.",
                           sender="hello@makers.example", list_id="<makers.lists.example>")
    before = trained.predict(ClassifierInput(item.subject, item.body, item.sender))
    assert before.top()[0] != "notification" or before.top()[1] < 0.9
    result = OfflineClassifier([], trained).classify(item)
    assert result.category == "notification"
    assert result.reasons[0] == "headers: mailing list <makers.lists.example>"


def test_automated_spam_stays_spam(trained: LocalClassifier) -> None:
    flagged = ClassifierInput(**{**PHISHING.__dict__, "auto_submitted": True, "list_id": "<x.example>"})
    result = OfflineClassifier([], trained).classify(flagged)
    assert result.category == "spam"
    assert result.source == "model"
    assert result.reasons[-1] == (
        "headers: marked as automatic mail, mailing list <x.example> (outweighed by the content)"
    )


def test_header_reasons_do_not_carry_control_characters(trained: LocalClassifier) -> None:
    item = ClassifierInput(**{**PARCEL.__dict__, "list_id": "<a\r\nInjected: yes>" + "x" * 200})
    result = OfflineClassifier([], trained).classify(item)
    assert all("\n" not in r and "\r" not in r for r in result.reasons)
    assert len(result.reasons[0]) < 120
