"""The XOAUTH2 SASL string (Gmail, Microsoft 365), byte for byte."""

from __future__ import annotations

import pytest

from connectors.imap.login import xoauth2_base64, xoauth2_string


def test_xoauth2_string_is_the_one_google_documents() -> None:
    # The worked example from Google's "XOAUTH2 mechanism" page.
    raw = xoauth2_string("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    assert (
        raw
        == b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
    )
    assert xoauth2_base64("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg") == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZ"
        "Mjl0Q2cBAQ=="
    )
    with pytest.raises(ValueError, match="x01"):
        xoauth2_string("a\x01b", "token")
