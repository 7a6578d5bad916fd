"""Names of the sender and recipients: whole, by part, and the common-word exceptions."""

from __future__ import annotations

import pytest

from engine.redact import Redactor
from engine.redact.names import name_parts


def redacted(text: str, *names: str) -> str:
    return Redactor(names).redact(text).text


def test_whole_name_and_parts_case_insensitive() -> None:
    text = "Jane Smith here. JANE asked Mrs smith to call. Regards, Jane"
    expected = "[NAME_1] here. [NAME_2] asked Mrs [NAME_3] to call. Regards, [NAME_2]"
    assert redacted(text, "Jane Smith") == expected


def test_whole_word_only() -> None:
    assert redacted("Janet and Smithson met Jane.", "Jane Smith") == "Janet and Smithson met [NAME_1]."


def test_possessive_and_apostrophes() -> None:
    assert redacted("Siobhán O’Neill's order", "Siobhán O'Neill") == "[NAME_1]'s order"


def test_bracketed_company_titles_and_team_words_are_not_names() -> None:
    assert name_parts("Dr. Priya Patel (Redland Physio)") == ("Priya Patel", ["Priya", "Patel"])
    assert name_parts("Accounts Team") == ("", [])
    assert name_parts("Smith, Jane") == ("Smith Jane", ["Smith", "Jane"])
    assert name_parts("J. Smith-Jones") == ("J Smith-Jones", ["Smith-Jones", "Smith", "Jones"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Will, the proofs will be ready.", "Hi [NAME_1], the proofs will be ready."),
        ("Will you send them? Thanks, Will", "Will you send them? Thanks, [NAME_1]"),
        ("Cheers\nWill\n", "Cheers\n[NAME_1]\n"),
        ("We will call. I will!", "We will call. I will!"),
    ],
)
def test_common_word_first_name(text: str, expected: str) -> None:
    assert redacted(text, "Will Turner") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("May I ask about the banner? Many thanks, May", "May I ask about the banner? Many thanks, [NAME_1]"),
        ("Delivery in May, or by May 14 at the latest.", "Delivery in May, or by May 14 at the latest."),
        ("Dear May, you may collect it.", "Dear [NAME_1], you may collect it."),
    ],
)
def test_month_names(text: str, expected: str) -> None:
    assert redacted(text, "May Chen") == expected


def test_common_word_surname_needs_capital() -> None:
    assert redacted("A brown envelope for Mr Brown.", "Tom Brown") == "A brown envelope for Mr [NAME_1]."


def test_full_name_always_counts_even_if_made_of_common_words() -> None:
    assert redacted("will turner wrote", "Will Turner") == "[NAME_1] wrote"


def test_names_in_scripts_without_spaces() -> None:
    assert redacted("田中さん、ありがとうございます。", "田中 太郎") == "[NAME_1]さん、ありがとうございます。"


def test_no_names_no_findings() -> None:
    assert redacted("Jane Smith wrote", "") == "Jane Smith wrote"
