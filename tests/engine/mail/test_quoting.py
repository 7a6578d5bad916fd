"""Stripping quoted history and signatures, on realistic UK office mail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mail.quoting import strip_quoted_and_signature as strip


def test_gmail_reply_with_sign_off_and_contact_block() -> None:
    text = """Hi Sarah,

Yes, Thursday at 2pm works for us. Could you bring the signed tenancy agreement?

Kind regards,
Tom Hughes
Hughes & Daughters Lettings
Tel: 020 7946 0123
www.hughesdaughters.co.uk

On Mon, 3 Jun 2024 at 10:12, Sarah Patel <sarah.patel@example.co.uk> wrote:
> Hi Tom,
>
> Are you free on Thursday?
>
> Sarah
"""
    assert strip(text) == (
        "Hi Sarah,\n\nYes, Thursday at 2pm works for us. Could you bring the signed tenancy agreement?"
    )


def test_gmail_attribution_split_over_two_lines() -> None:
    text = (
        "The boiler is still not working.\n\n"
        "On Tue, 4 Jun 2024 at 09:03, Hughes Lettings <\ninfo@hughes-lettings.co.uk> wrote:\n\n"
        "> An engineer will visit on Wednesday.\n"
    )
    assert strip(text) == "The boiler is still not working."


def test_outlook_original_message_block() -> None:
    text = """Please cancel order 10234, it arrived damaged.

-----Original Message-----
From: Orders <orders@shop.example.co.uk>
Sent: 03 June 2024 10:12
To: Jane Doe <jane@example.com>
Subject: Your order 10234 has shipped

Thank you for your order."""
    assert strip(text) == "Please cancel order 10234, it arrived damaged."


def test_outlook_underscore_separator_and_header_block() -> None:
    text = """Invoice attached as requested.

Thanks
Priya

________________________________
From: Bob Smith <bob@acme.example.co.uk>
Sent: Monday, June 3, 2024 10:12 AM
To: Priya Shah <priya@example.co.uk>
Subject: RE: invoice

Could you send the invoice for May?"""
    assert strip(text) == "Invoice attached as requested."


def test_header_block_from_html_conversion_with_bold_markers() -> None:
    text = "Agreed.\n\n*From:* Jane <jane@x.co.uk>\n*Sent:* 03 June 2024 10:12\n*Subject:* Quote\n\nOld text"
    assert strip(text) == "Agreed."


def test_iphone_footer_and_quoted_reply() -> None:
    text = """Thanks, that's sorted now.

Sent from my iPhone

> On 3 Jun 2024, at 10:12, Jane <jane@example.com> wrote:
>
> Is the leak sorted?
"""
    assert strip(text) == "Thanks, that's sorted now."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPad",
        "Get Outlook for Android",
        "Sent from Outlook for iOS",
        "Sent from Mail for Windows",
    ],
)
def test_mobile_footers(footer: str) -> None:
    assert strip(f"Running ten minutes late.\n\n{footer}") == "Running ten minutes late."


def test_dash_dash_space_signature() -> None:
    text = "Please call me back about the damp.\n\n-- \nMrs A. Jones\n14 Mill Road\nCambridge CB1 2AB\n"
    assert strip(text) == "Please call me back about the damp."


def test_inline_replies_keep_the_answers() -> None:
    text = """My answers are below.

> Do you deliver to Leeds?
Yes, we do.
> And on Sundays?
No, sorry.

--
Bob
Widgets Ltd
"""
    assert strip(text) == "My answers are below.\n\nYes, we do.\nNo, sorry."


def test_disclaimer_is_removed() -> None:
    text = """Your refund of £45.00 has been processed.

Best wishes,
Accounts Team

This email and any attachments are confidential and intended solely for the addressee. If you have
received it in error please notify the sender and delete it. Acme Ltd is registered in England and Wales
under company number 01234567."""
    assert strip(text) == "Your refund of £45.00 has been processed."


def test_sign_off_with_name_on_the_same_line() -> None:
    assert strip("The parcel arrived, all good.\n\nCheers, Bob") == "The parcel arrived, all good."
    assert strip("The parcel arrived.\n\nThanks - Jane Smith") == "The parcel arrived."


def test_thanks_that_starts_a_sentence_is_kept() -> None:
    text = "Hello,\n\nThanks, I will call you tomorrow about the deposit."
    assert strip(text) == text


def test_sign_off_followed_by_real_content_is_kept() -> None:
    text = (
        "Here is my complaint.\n\nRegards,\nJohn\n\nP.S. I have also written to the ombudsman about how long "
        "this has taken and I expect a reply from you within fourteen days of this email?"
    )
    assert strip(text) == text


def test_forwarded_message_is_kept_with_its_quotes() -> None:
    text = """FYI, see below.

---------- Forwarded message ---------
From: Angry Customer <angry@example.com>
Date: Mon, 3 Jun 2024 at 10:12
Subject: Complaint about repairs
To: <info@hughes-lettings.co.uk>

> I reported the leak three weeks ago.

Regards,
A. Customer"""
    assert strip(text) == text


def test_apple_and_outlook_forwards_are_kept() -> None:
    apple = "See below.\n\nBegin forwarded message:\n\nFrom: x@y.com\nSubject: Leak\n\nWater everywhere."
    assert strip(apple) == apple
    outlook = (
        "For you.\n\nFrom: Jane <jane@x.co.uk>\nSent: 03 June 2024 10:12\nTo: me@y.co.uk\n"
        "Subject: FW: Leak\n\nWater everywhere."
    )
    assert strip(outlook) == outlook


def test_lines_that_look_like_headers_in_a_body_are_kept() -> None:
    text = "Booking details:\nFrom: London Euston\nTo: Manchester\nDate: 4 June\nPlease confirm."
    assert strip(text) == text


def test_never_empty() -> None:
    assert strip("> only a quote\n> nothing else") == "> only a quote\n> nothing else"
    assert strip("Thanks,\nJane") == "Thanks,\nJane"
    assert strip("-- \nsignature only") == "--\nsignature only"  # kept, trailing space trimmed
    assert strip("   \n  ") == ""


def test_crlf_input() -> None:
    assert strip("Yes please.\r\n\r\nKind regards,\r\nTom\r\n") == "Yes please."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("> -_\nOn wrote:FromSentSubject Thanks,Jane")), max_size=300))
def test_never_empty_for_content_and_never_raises(text: str) -> None:
    result = strip(text)
    assert bool(result) == bool(text.strip())
