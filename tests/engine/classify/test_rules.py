"""User rules: each kind, first match wins, and validation with clear messages."""

from __future__ import annotations

import pytest

from engine.classify.rules import Rule, RuleSet, validate_rules
from engine.classify.text import ClassifierInput
from engine.errors import ConfigurationError


def item(
    subject: str = "Hello", body: str = "Just a note.", sender: str = "jane@example.co.uk"
) -> ClassifierInput:
    return ClassifierInput(subject=subject, body=body, sender=sender)


def test_sender_rule_matches_the_whole_address_case_insensitively() -> None:
    rules = RuleSet([Rule("sender", "Billing@Supplier.example", "billing")])
    result = rules.match(item(sender="billing@supplier.EXAMPLE"))
    assert result is not None
    assert (result.category, result.confidence, result.source) == ("billing", 1.0, "rule")
    assert result.reasons == ("rule: sender billing@supplier.example → billing",)
    assert rules.match(item(sender="ebilling@supplier.example")) is None
    assert rules.match(item(sender="billing@supplier.example.com")) is None
    assert rules.match(item(sender="")) is None


def test_domain_rule_matches_the_domain_and_its_subdomains_only() -> None:
    rules = RuleSet([Rule("domain", "paperhaus.co.uk", "order")])
    assert rules.match(item(sender="sales@paperhaus.co.uk")) is not None
    assert rules.match(item(sender="a@mail.paperhaus.co.uk")) is not None
    assert rules.match(item(sender="a@notpaperhaus.co.uk")) is None
    assert rules.match(item(sender="paperhaus.co.uk@gmail.com")) is None
    result = rules.match(item(sender="x@PAPERHAUS.co.uk"))
    assert result is not None and result.reasons == ("rule: domain paperhaus.co.uk → order",)


def test_keyword_rule_matches_whole_words_in_subject_or_body() -> None:
    rules = RuleSet([Rule("keyword", "refund", "complaint")])
    assert rules.match(item(subject="REFUND please")) is not None
    assert rules.match(item(body="I want a refund.")) is not None
    assert rules.match(item(body="(refund)")) is not None
    assert rules.match(item(body="It was refunded already")) is None
    assert rules.match(item(body="nonrefundable")) is None
    result = rules.match(item(body="refund"))
    assert result is not None and result.reasons == ('rule: keyword "refund" → complaint',)


def test_keyword_phrase_matches_across_whitespace_and_treats_symbols_literally() -> None:
    rules = RuleSet([Rule("keyword", "direct debit", "billing"), Rule("keyword", "c++", "other")])
    assert rules.match(item(body="Our direct\n  debit failed")) is not None
    assert rules.match(item(body="directdebit")) is None
    match = rules.match(item(body="We code in C++ here"))
    assert match is not None and match.category == "other"
    assert rules.match(item(body="We code in C here")) is None


def test_first_matching_rule_wins_in_the_offices_order() -> None:
    first = RuleSet([Rule("keyword", "invoice", "billing"), Rule("domain", "example.co.uk", "order")])
    second = RuleSet([Rule("domain", "example.co.uk", "order"), Rule("keyword", "invoice", "billing")])
    email = item(subject="Invoice 22", sender="a@example.co.uk")
    one, two = first.match(email), second.match(email)
    assert one is not None and one.category == "billing"
    assert two is not None and two.category == "order"


def test_no_rules_match_nothing() -> None:
    assert RuleSet([]).match(item()) is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("sender", "a@b.co.uk", "urgent"), r"Rule 1 \(sender 'a@b.co.uk'\): unknown category 'urgent'"),
        (Rule("subject", "x", "order"), "unknown kind 'subject'"),
        (Rule("keyword", "   ", "order"), "the pattern is empty"),
        (Rule("domain", "", "order"), "the pattern is empty"),
        (Rule("domain", "@supplier.co.uk", "order"), "without '@'"),
        (Rule("domain", "*.supplier.co.uk", "order"), "without '@' or '\\*'"),
        (Rule("domain", "localhost", "order"), "domain name such as"),
        (Rule("domain", "bad_domain.com", "order"), "domain name such as"),
        (Rule("domain", "-bad.com", "order"), "domain name such as"),
        (Rule("domain", "two words.com", "order"), "domain name such as"),
        (Rule("sender", "supplier.co.uk", "order"), "full email address"),
        (Rule("sender", "@supplier.co.uk", "order"), "full email address"),
        (Rule("sender", "a b@supplier.co.uk", "order"), "full email address"),
        (Rule("sender", "a@supplier", "order"), "the address's domain is not valid"),
        (Rule("keyword", "!!!", "order"), "at least one letter or digit"),
        (Rule("keyword", "x" * 201, "order"), "longer than 200"),
    ],
)
def test_invalid_rules_are_rejected_with_a_clear_message(rule: Rule, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_rules([rule])
    with pytest.raises(ConfigurationError):
        RuleSet([rule])


def test_validation_names_the_position_of_the_bad_rule() -> None:
    rules = [
        Rule("keyword", "refund", "complaint"),
        Rule("domain", "ok.co.uk", "order"),
        Rule("keyword", "", "spam"),
    ]
    with pytest.raises(ConfigurationError, match=r"^Rule 3 "):
        validate_rules(rules)


def test_valid_rules_pass_validation() -> None:
    validate_rules([
        Rule("sender", "accounts+invoices@supplier.co.uk", "billing"),
        Rule("domain", "xn--bcher-kva.example", "order"),
        Rule("domain", "mail.example.com.", "notification"),
        Rule("keyword", "£5 off", "spam"),
    ])
