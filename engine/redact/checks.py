"""Check digits and allocation rules that tell real identifiers from look-alike numbers.

Each function takes the identifier with separators already removed (digits, or upper-case
letters and digits) and answers whether it could be a real one.
"""

from __future__ import annotations

#: National Insurance prefixes HMRC never allocates (on top of the letter rules below).
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIOQUV")

#: IBAN lengths of the countries a UK office most often sees (ISO 13616 registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GG": 22, "GI": 23, "GL": 18,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IM": 22, "IS": 26, "IT": 27, "JE": 22, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "VA": 22,
}  # fmt: skip
MIN_IBAN_LENGTH = 15
MAX_IBAN_LENGTH = 34


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def nhs_number_valid(digits: str) -> bool:
    """Whether ten digits form a valid NHS number (modulus 11 check digit).

    Weights 10..2 apply to the first nine digits; the check digit is 11 minus the remainder of
    the weighted sum divided by 11 (11 becomes 0; 10 means the number is never issued).
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    if len(set(digits)) == 1:  # 0000000000 and friends pass the arithmetic but are never issued
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nino_valid(compact: str) -> bool:
    """Whether ``AB123456C`` (suffix optional) follows HMRC's National Insurance number rules.

    The first letter is not D, F, I, Q, U or V; the second is not D, F, I, O, Q, U or V; the
    prefixes BG, GB, KN, NK, NT, TN and ZZ are not allocated; the suffix is A, B, C or D.
    """
    value = compact.upper()
    if len(value) not in (8, 9):
        return False
    prefix, digits, suffix = value[:2], value[2:8], value[8:]
    if not (prefix.isalpha() and prefix.isascii() and digits.isdigit()):
        return False
    if prefix[0] in _NINO_BAD_FIRST or prefix[1] in _NINO_BAD_SECOND or prefix in _NINO_BAD_PREFIXES:
        return False
    return suffix in ("", "A", "B", "C", "D")


def iban_valid(compact: str) -> bool:
    """Whether an IBAN (no spaces) has a plausible length and passes the ISO 7064 mod-97 check."""
    value = compact.upper()
    if not MIN_IBAN_LENGTH <= len(value) <= MAX_IBAN_LENGTH or not value.isascii() or not value.isalnum():
        return False
    country = value[:2]
    if not country.isalpha() or not value[2:4].isdigit():
        return False
    expected = IBAN_LENGTHS.get(country)
    if expected is not None and len(value) != expected:
        return False
    rearranged = value[4:] + value[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def uk_phone_digits(digits: str) -> str | None:
    """The national form (leading 0) of a UK phone number's digits, or ``None`` if it cannot be one.

    Accepts ``44…`` / ``0044…`` (international) and ``0…`` (national). The national significant
    number has 9 or 10 digits and starts with 1, 2, 3, 5, 7, 8 or 9.
    """
    if digits.startswith("0044"):
        nsn = digits[4:]
    elif digits.startswith("44"):
        nsn = digits[2:]
    elif digits.startswith("0"):
        nsn = digits[1:]
    else:
        return None
    if nsn.startswith("0"):  # +44 (0)117 … written without the brackets
        nsn = nsn[1:]
    if len(nsn) not in (9, 10) or nsn[0] not in "1235789":
        return None
    return "0" + nsn
