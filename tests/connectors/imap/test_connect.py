"""Connecting to a real Dovecot: IMAPS with the self-signed CA, STARTTLS, and clear failures."""

from __future__ import annotations

import socket
import ssl

import pytest

from connectors.errors import AuthenticationError, ConnectionFailedError, ConnectorPermanentError, TlsError
from connectors.imap.client import open_client
from connectors.imap.diagnose import diagnose_imap
from connectors.imap.endpoint import Endpoint
from connectors.imap.errors import ImapConnectError, ImapFolderError, ImapLoginError, ImapTlsError
from tests.connectors.imap.helpers import ImapHarness
from tests.support.ports import free_port


def test_imaps_login_with_the_self_signed_ca(imap: ImapHarness) -> None:
    client = open_client(imap.endpoint("tls"), imap.login())
    try:
        assert {"IDLE", "CONDSTORE", "MOVE", "UIDPLUS"} <= client.capabilities
        status = client.select("INBOX")
        assert status.uidvalidity > 0
        assert client.commands_sent == 2  # LOGIN and SELECT: the greeting and LOGIN carried CAPABILITY
    finally:
        client.logout()


def test_starttls_login(imap: ImapHarness) -> None:
    client = open_client(imap.endpoint("starttls"), imap.login())
    try:
        assert isinstance(client.socket(), ssl.SSLSocket)
        assert "STARTTLS" not in client.capabilities
        client.select("INBOX")
    finally:
        client.logout()


def test_wrong_password_is_a_clear_permanent_error(imap: ImapHarness) -> None:
    with pytest.raises(ImapLoginError) as caught:
        open_client(imap.endpoint("tls"), imap.login("not-the-password"))
    error = caught.value
    assert isinstance(error, AuthenticationError)  # permanent: the runner does not hammer the server
    assert error.stage == "login"
    assert imap.dovecot.user in str(error)
    assert "AUTHENTICATIONFAILED" in str(error)


def test_untrusted_certificate_is_a_tls_error(imap: ImapHarness) -> None:
    with pytest.raises(ImapTlsError) as caught:
        open_client(imap.endpoint("tls", ca=False), imap.login())
    assert isinstance(caught.value, TlsError)
    assert "certificate" in str(caught.value)
    assert "CA file" in str(caught.value)


def test_tls_against_the_plain_port_is_a_tls_error(imap: ImapHarness) -> None:
    with pytest.raises(ImapTlsError):
        open_client(imap.endpoint("tls", port=imap.dovecot.imap_port), imap.login())


def test_refused_port_is_a_transient_tcp_error(imap: ImapHarness) -> None:
    with pytest.raises(ImapConnectError) as caught:
        open_client(imap.endpoint("tls", port=free_port()), imap.login())
    assert isinstance(caught.value, ConnectionFailedError)
    assert caught.value.stage == "tcp"


def test_plain_imap_is_refused_for_a_remote_host() -> None:
    endpoint = Endpoint("imap.example.co.uk", 143, "none")
    with pytest.raises(ConnectorPermanentError, match="only allowed to this computer"):
        endpoint.check()
    Endpoint("127.0.0.1", 143, "none").check()
    Endpoint("localhost", 143, "none").check()


def test_missing_folder_is_a_folder_error(imap: ImapHarness) -> None:
    client = open_client(imap.endpoint(), imap.login())
    try:
        with pytest.raises(ImapFolderError, match="No-Such-Folder"):
            client.select("No-Such-Folder")
    finally:
        client.logout()


def test_non_ascii_password_logs_in_with_sasl_plain(imap: ImapHarness) -> None:
    user = imap.dovecot.add_user(password="pässwörd-£")
    client = open_client(imap.endpoint(), type(imap.login())(user.name, lambda: "pässwörd-£"))
    client.logout()


# --- "Test connection" -------------------------------------------------------------------------


def test_diagnosis_of_a_working_account(imap: ImapHarness) -> None:
    result = diagnose_imap(
        imap.endpoint(), imap.login(), account="office", folder="INBOX", other_folders=["Sent"]
    )
    assert result.ok, result.message
    assert [s.stage for s in result.stages] == ["dns", "tcp", "tls", "login", "folder"]
    assert "IDLE" in result.details["capabilities"]
    assert result.to_json()["failed_stage"] is None


@pytest.mark.parametrize(
    ("case", "stage", "phrase"),
    [
        ("tcp", "tcp", "refused"),
        ("tls", "tls", "certificate could not be verified"),
        ("login", "login", "refused the login"),
        ("folder", "folder", "folders on the server: Sent"),
    ],
)
def test_diagnosis_names_the_failing_stage(imap: ImapHarness, case: str, stage: str, phrase: str) -> None:
    endpoint, login, folder = imap.endpoint(), imap.login(), "INBOX"
    if case == "tcp":
        endpoint = imap.endpoint(port=free_port())
    elif case == "tls":
        endpoint = imap.endpoint(ca=False)
    elif case == "login":
        login = imap.login("wrong")
    else:
        folder = "Clients/Archive"
    result = diagnose_imap(endpoint, login, account="office", folder=folder)
    assert not result.ok
    assert result.failed_stage == stage
    assert phrase in result.message
    assert [s.stage for s in result.stages][-1] == stage  # later stages were not tried


def test_diagnosis_of_an_unknown_host_name(imap: ImapHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS failure (simulated: tests must not query a real resolver)."""

    def no_such_host(*_args: object, **_kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = diagnose_imap(
        Endpoint("imap.no-such-host.example", 993, "tls"), imap.login(), account="office", folder="INBOX"
    )
    assert result.failed_stage == "dns"
    assert "could not be resolved" in result.message
