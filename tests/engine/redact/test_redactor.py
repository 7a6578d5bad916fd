"""The redactor as a whole: placeholders, overlaps, categories, restore."""

from __future__ import annotations

from engine.categories import DataCategory
from engine.redact import Redactor, restore, unresolved_placeholders

EMAIL = """Hi Jo,

This is Priya Patel from Redland Physio (priya@redlandphysio.co.uk, 0117 496 0345).
Please send the business cards to 14 Whiteladies Road, Bristol BS8 2PH.
Pay from sort code 20-32-06, account 73849120, or card 5555 5555 5555 4444.
Our order 01174960999 is separate. For the clinic: NHS 943 476 5919, NI AB 12 34 56 C.
IBAN GB33 BUKB 2020 1555 5555 55.

Thanks, Priya"""


def test_everything_in_a_realistic_email() -> None:
    result = Redactor(["Priya Patel", "Jo Bloggs"]).redact(EMAIL)
    for original in ("Priya", "Patel", "Jo", "priya@redlandphysio.co.uk", "0117 496 0345", "BS8 2PH",
                     "20-32-06", "73849120", "5555 5555 5555 4444", "943 476 5919", "AB 12 34 56 C",
                     "GB33 BUKB 2020 1555 5555 55"):
        assert original not in result.text, original
    assert "order 01174960999" in result.text
    assert result.categories == {
        DataCategory.NAME, DataCategory.EMAIL_ADDRESS, DataCategory.PHONE, DataCategory.POSTAL_ADDRESS,
        DataCategory.BANK_DETAILS, DataCategory.PAYMENT_CARD, DataCategory.NHS_NUMBER,
        DataCategory.NATIONAL_INSURANCE,
    }
    assert result.remaining == frozenset()
    assert restore(result.text, result.mapping) == EMAIL


def test_placeholders_are_typed_numbered_and_stable() -> None:
    result = Redactor().redact("a@x.co.uk, b@x.co.uk, A@X.CO.UK, 07700 900001, 07700 900002")
    assert result.text == "[EMAIL_1], [EMAIL_2], [EMAIL_1], [PHONE_1], [PHONE_2]"
    assert result.mapping["[EMAIL_1]"] == "a@x.co.uk"


def test_parts_share_placeholders() -> None:
    parts = Redactor(["Jane Smith"]).redact_parts(["Re: Jane Smith's order", "Jane Smith, jane@x.co.uk"])
    assert parts.texts == ("Re: [NAME_1]'s order", "[NAME_1], [EMAIL_1]")


def test_email_beats_name_and_phone_inside_it() -> None:
    result = Redactor(["Jane Smith"]).redact("jane.smith.07700900123@example.com")
    assert result.text == "[EMAIL_1]"


def test_literal_placeholders_in_the_email_are_never_restored() -> None:
    text = "Please write [EMAIL_1] and [NAME_1] in the template. I am bob@example.com"
    result = Redactor(["Bob Hope"]).redact(text)
    assert result.text == "Please write [EMAIL_1] and [NAME_1] in the template. I am [EMAIL_2]"
    assert restore(result.text, result.mapping) == text


def test_passthrough_reports_what_goes_out() -> None:
    parts = Redactor(["Jane Smith"]).passthrough(["Jane Smith, 07700 900123"])
    assert parts.texts == ("Jane Smith, 07700 900123",)
    assert parts.mapping == {}
    assert parts.remaining == {DataCategory.NAME, DataCategory.PHONE}


def test_restore_tolerates_model_spacing_and_case() -> None:
    mapping = {"[NAME_1]": "Jane", "[PHONE_1]": "07700 900123"}
    assert restore("Dear [ name_1 ], ring [PHONE_1].", mapping) == "Dear Jane, ring 07700 900123."


def test_unresolved_placeholders() -> None:
    mapping = {"[NAME_1]": "Jane"}
    assert unresolved_placeholders("Dear [NAME_1] and [NAME_2], see [EMAIL_3] [NOTE_1]", mapping) == [
        "[NAME_2]",
        "[EMAIL_3]",
    ]


def test_plain_text_is_untouched() -> None:
    text = "Could you quote for 500 A5 flyers, 350gsm silk, by Friday? Budget about £120."
    result = Redactor().redact(text)
    assert result.text == text
    assert result.mapping == {}
    assert result.categories == frozenset()
