"""How a connector logs in: a password (or app password) or an OAuth2 access token (XOAUTH2).

Secrets are fetched through callables at the moment of login, so a token is always fresh and a
password never sits in a settings object. Shared by IMAP and SMTP.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PasswordLogin:
    """User name plus a password read from the keyring when needed."""

    username: str
    password: Callable[[], str]


@dataclass(frozen=True)
class OAuth2Login:
    """User name plus an access token; ``token(True)`` forces a refresh after the server refused one."""

    username: str
    token: Callable[[bool], str]


Login = PasswordLogin | OAuth2Login


def xoauth2_string(username: str, access_token: str) -> bytes:
    """The XOAUTH2 SASL initial response (before base64): ``user=U^Aauth=Bearer T^A^A``.

    As specified by Google and Microsoft for IMAP and SMTP; the caller (imaplib/smtplib) base64-encodes
    it on the wire.
    """
    if "\x01" in username or "\x01" in access_token:
        raise ValueError("user name and token must not contain \\x01")
    return f"user={username}\x01auth=Bearer {access_token}\x01\x01".encode()


def xoauth2_base64(username: str, access_token: str) -> str:
    """The XOAUTH2 initial response as it appears on the wire (base64 of :func:`xoauth2_string`)."""
    return base64.b64encode(xoauth2_string(username, access_token)).decode("ascii")
