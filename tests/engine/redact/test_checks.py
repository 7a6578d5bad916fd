"""Check digits and allocation rules: real identifiers pass, look-alikes fail."""

from __future__ import annotations

import pytest

from engine.redact.checks import iban_valid, luhn_valid, nhs_number_valid, nino_valid, uk_phone_digits


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),  # Visa test number
        ("5555555555554444", True),  # Mastercard
        ("378282246310005", True),  # Amex, 15 digits
        ("4222222222222", True),  # 13-digit Visa
        ("4111111111111112", False),
        ("1234567812345678", False),
        ("41111111111111a1", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("9434765919", True),  # the NHS's own example
        ("4010232137", True),
        ("9434765918", False),  # wrong check digit
        ("4010232138", False),
        ("0000000000", False),  # passes the arithmetic, never issued
        ("943476591", False),  # nine digits
    ],
)
def test_nhs_number(digits: str, valid: bool) -> None:
    assert nhs_number_valid(digits) is valid


def test_nhs_check_digit_ten_is_never_issued() -> None:
    # 0000000060: weighted sum 12 → remainder 1 → check digit 10 → invalid whatever the last digit.
    assert not any(nhs_number_valid(f"000000006{d}") for d in range(10))


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("AB123456C", True),
        ("ab123456d", True),
        ("AB123456", True),  # the suffix is optional for the check itself
        ("AB123456E", False),  # suffix beyond D
        ("DA123456A", False),  # D never first
        ("FA123456A", False),
        ("QQ123456C", False),  # Q never first (the classic specimen is not a valid number)
        ("AO123456A", False),  # O never second
        ("AV123456A", False),
        ("GB123456A", False),  # unallocated prefixes
        ("BG123456A", False),
        ("NK123456A", False),
        ("KN123456A", False),
        ("TN123456A", False),
        ("NT123456A", False),
        ("ZZ123456A", False),
        ("A1234567C", False),
    ],
)
def test_national_insurance_number(value: str, valid: bool) -> None:
    assert nino_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("GB33BUKB20201555555555", True),
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765433", False),  # mod 97 fails
        ("GB82WEST1234569876543", False),  # one short for GB
        ("GB82WEST12345698765432X", False),
        ("1282WEST12345698765432", False),
    ],
)
def test_iban(value: str, valid: bool) -> None:
    assert iban_valid(value) is valid


@pytest.mark.parametrize(
    ("digits", "national"),
    [
        ("01174960123", "01174960123"),
        ("447700900123", "07700900123"),
        ("4401174960123", "01174960123"),  # +44 (0)117…
        ("00447700900123", "07700900123"),
        ("08001234567", "08001234567"),
        ("0800123456", "0800123456"),  # nine-digit freephone
        ("04123456789", None),  # no UK number starts 04
        ("0117496012345", None),  # too long
        ("0117496", None),
        ("17700900123", None),
    ],
)
def test_uk_phone_digits(digits: str, national: str | None) -> None:
    assert uk_phone_digits(digits) == national
