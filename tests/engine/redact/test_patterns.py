"""Each detector on UK examples, and the look-alikes each must leave alone."""

from __future__ import annotations

import pytest

from engine.redact import Kind, Redactor


def redacted(text: str, names: tuple[str, ...] = ()) -> str:
    return Redactor(names).redact(text).text


def kinds_in(text: str) -> list[Kind]:
    return [f.kind for f in Redactor().findings(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail jane.smith@example.co.uk today", "Mail [EMAIL_1] today"),
        ("<j.o'neill+orders@redland-physio.org.uk>", "<[EMAIL_1]>"),
        ("mailto:accounts@severnpaper.co.uk.", "mailto:[EMAIL_1]."),
        ("(ravi@example.com)", "([EMAIL_1])"),
    ],
)
def test_email_addresses(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize("text", ["user@localhost", "not an @ address", "a@b", "version 1.2@3.4", "@twitter"])
def test_email_look_alikes(text: str) -> None:
    assert Kind.EMAIL not in kinds_in(text)


@pytest.mark.parametrize(
    "phone",
    [
        "0117 496 0123",
        "01174960123",
        "(0117) 496 0123",
        "0117-496-0123",
        "020 7946 0018",
        "07700 900123",
        "07700-900-123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)117 496 0123",
        "0044 117 496 0123",
        "0800 123 456",
    ],
)
def test_uk_phone_numbers(phone: str) -> None:
    result = Redactor().redact(f"Ring me on {phone} after lunch.")
    assert result.text == "Ring me on [PHONE_1] after lunch."
    assert result.mapping == {"[PHONE_1]": phone}


@pytest.mark.parametrize(
    "text",
    [
        "Order 01174960123 has not arrived",
        "Invoice no. 07700 900123 is wrong",
        "Our PO 01632 960123 covers it",
        "my order number is 07700900123",
        "Ref: 0117 496 0123",
        "Tracking #07700900123",
        "Quote 02079460018 attached",
    ],
)
def test_labelled_reference_numbers_are_not_phones(text: str) -> None:
    """A number directly after an order/invoice/ref/PO label is a reference and is kept."""
    assert redacted(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "500 x A5 flyers at £1,250.00",
        "Open 09:00-17:30, Mon-Fri",
        "Delivered 01/12/2025 and 01-12-2025",
        "the 2025 price list, page 0 of 12",
        "0.5 0.75 1.0 2.5 3.0 sizes",
        "call 04123 456789",  # no UK number starts 04
        "ID90117496012",
    ],
)
def test_phone_look_alikes(text: str) -> None:
    assert Kind.PHONE not in kinds_in(text)


def test_same_number_written_twice_shares_a_placeholder() -> None:
    result = Redactor().redact("Mobile 07700 900123, or +44 7700 900123 from abroad.")
    assert result.text == "Mobile [PHONE_1], or [PHONE_1] from abroad."


@pytest.mark.parametrize(
    "postcode", ["BS1 4DJ", "BS14DJ", "EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT",
                 "SW1A 2AA", "GIR 0AA", "BFPO 801", "bs8 1tz"],
)
def test_uk_postcodes(postcode: str) -> None:
    expected = "Deliver to 12 Park Row, Bristol [POSTCODE_1]."
    assert redacted(f"Deliver to 12 Park Row, Bristol {postcode}.") == expected


@pytest.mark.parametrize(
    "text",
    [
        "A4 2UP flyers",  # no postcode area A
        "QQ1 1AA",  # QQ is not an area
        "BS1 4CJ",  # C is never in the inward code
        "Bs1 4dJ",  # mixed case reads as something else
        "M25 traffic",
        "PO 5521",
    ],
)
def test_postcode_look_alikes(text: str) -> None:
    assert Kind.POSTCODE not in kinds_in(text)


@pytest.mark.parametrize(
    "nino", ["AB 12 34 56 C", "AB123456C", "ab 123456 d", "JG 10 37 59 A", "AB 12 34 56"]
)
def test_national_insurance_numbers(nino: str) -> None:
    assert redacted(f"My NI number is {nino}, thanks") == "My NI number is [NINO_1], thanks"


@pytest.mark.parametrize(
    "text",
    [
        "QQ 12 34 56 C",  # Q is never a first letter
        "DA123456A",
        "AO123456B",
        "GB123456A",
        "TN 12 34 56 A",
        "AB123456",  # compact without suffix: a product code as likely as a NI number
        "on 12 34 56",  # lower-case words before a spaced number
        "AB123456E",
    ],
)
def test_national_insurance_look_alikes(text: str) -> None:
    assert Kind.NINO not in kinds_in(text)


@pytest.mark.parametrize("nhs", ["943 476 5919", "9434765919", "943-476-5919", "401 023 2137"])
def test_nhs_numbers(nhs: str) -> None:
    result = Redactor().redact(f"NHS number {nhs} for the referral")
    assert result.text == "NHS number [NHS_1] for the referral"


@pytest.mark.parametrize("text", ["NHS number 943 476 5918", "Order 9434765919", "batch 1234567890"])
def test_nhs_look_alikes(text: str) -> None:
    assert Kind.NHS not in kinds_in(text)


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "4111111111111111", "5555-5555-5555-4444", "3782 822463 10005", "4222222222222",
     "6011 1111 1111 1117"],
)
def test_payment_cards(card: str) -> None:
    assert redacted(f"Card: {card} exp 12/27") == "Card: [CARD_1] exp 12/27"


@pytest.mark.parametrize(
    "text",
    ["Card: 4111 1111 1111 1112", "Serial 1234 5678 9012 3456", "4444 4444 4444 4444", "4111 1111 1111"],
)
def test_card_look_alikes(text: str) -> None:
    assert Kind.CARD not in kinds_in(text)


def test_card_followed_by_more_digits_is_still_found() -> None:
    assert redacted("Card 4111 1111 1111 1111 12 months") == "Card [CARD_1] 12 months"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sort code 20-00-00, account 55779911", "Sort code [SORT_CODE_1], account [ACCOUNT_1]"),
        ("sort code: 20 00 00", "sort code: [SORT_CODE_1]"),
        ("Sort-code 200000 please", "Sort-code [SORT_CODE_1] please"),
        ("Bank 12-34-56 12345678", "Bank [SORT_CODE_1] [ACCOUNT_1]"),
        ("Pay to 40-47-84", "Pay to [SORT_CODE_1]"),  # 47 cannot be a month: not a date
        ("Acc no. 31926819", "Acc no. [ACCOUNT_1]"),
        ("a/c 31926819", "a/c [ACCOUNT_1]"),
    ],
)
def test_bank_details(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Delivered on 01-12-25",  # a date, not a sort code
        "Ring 20 00 00 for the desk",  # spaced digits without "sort code"
        "Order 31926819 shipped",  # eight digits without "account"
        "Account manager: order no. 31926819",  # the nearest label is the order
        "Ref 40-47-84",
    ],
)
def test_bank_look_alikes(text: str) -> None:
    found = kinds_in(text)
    assert Kind.SORT_CODE not in found
    assert Kind.ACCOUNT not in found


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "GB33 BUKB 2020 1555 5555 55",
        "DE89 3704 0044 0532 0130 00",
    ],
)
def test_ibans(iban: str) -> None:
    assert redacted(f"IBAN {iban} THANKS") == "IBAN [IBAN_1] THANKS"


@pytest.mark.parametrize("text", ["IBAN GB82 WEST 1234 5698 7654 33", "PP123456789GB", "GB12 ABCD 1234"])
def test_iban_look_alikes(text: str) -> None:
    assert Kind.IBAN not in kinds_in(text)
