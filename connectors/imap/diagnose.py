""" "Test connection": try each stage in turn and say exactly which one failed and why.

Stages, in order: ``dns`` (the host name resolves), ``tcp`` (the port accepts a connection),
``tls`` (the handshake succeeds and the certificate verifies; "not encrypted" on loopback with
security ``none``), ``login`` (the server accepts the credentials) and ``folder`` (the watched
folder, and any other folder the account needs, can be opened). The result is a plain object a
settings page or the command line shows as it is.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.errors import ConnectorError
from connectors.imap.client import ImapClient, connect
from connectors.imap.endpoint import Endpoint
from connectors.imap.login import Login

_C = TypeVar("_C")

STAGES = ("dns", "tcp", "tls", "login", "folder")
#: Capabilities worth showing: what the account will be able to use.
INTERESTING_CAPABILITIES = ("IDLE", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS", "SPECIAL-USE")


@dataclass(frozen=True)
class StageResult:
    """One stage's outcome."""

    stage: str
    ok: bool
    message: str
    elapsed_ms: int = 0


@dataclass(frozen=True)
class ConnectionTestResult:
    """The outcome of a connection test: ``ok``, or the first stage that failed and why."""

    account: str
    kind: str
    host: str
    port: int
    stages: tuple[StageResult, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every stage that ran succeeded."""
        return all(stage.ok for stage in self.stages)

    @property
    def failed_stage(self) -> str | None:
        """The first stage that failed, if any."""
        return next((stage.stage for stage in self.stages if not stage.ok), None)

    @property
    def message(self) -> str:
        """One line: what failed and why, or that everything worked."""
        failed = next((stage for stage in self.stages if not stage.ok), None)
        if failed is not None:
            return f"{failed.stage}: {failed.message}"
        return f"connected to {self.host}:{self.port}: " + "; ".join(s.message for s in self.stages[-2:])

    def to_json(self) -> dict[str, Any]:
        """The shape ``accounts test --json`` prints."""
        return {
            "account": self.account,
            "kind": self.kind,
            "host": self.host,
            "port": self.port,
            "ok": self.ok,
            "failed_stage": self.failed_stage,
            "message": self.message,
            "stages": [
                {"stage": s.stage, "ok": s.ok, "message": s.message, "elapsed_ms": s.elapsed_ms}
                for s in self.stages
            ],
            "details": self.details,
        }


class StageRecorder:
    """Collects stage results; ``run`` times a stage and records its failure as that stage's."""

    def __init__(self) -> None:
        self.stages: list[StageResult] = []

    def record(self, stage: str, ok: bool, message: str, started: float) -> None:
        """Add a result for ``stage`` timed from ``started`` (a perf_counter value)."""
        self.stages.append(StageResult(stage, ok, message, int((time.perf_counter() - started) * 1000)))

    def failed(self) -> bool:
        """Whether a stage has failed (later stages are then not tried)."""
        return any(not s.ok for s in self.stages)


def connect_in_stages(
    endpoint: Endpoint, recorder: StageRecorder, connect: Callable[[Endpoint], _C]
) -> _C | None:
    """Check the settings, DNS and TCP, then ``connect``; on failure record the stage and return None."""
    try:
        endpoint.check()
    except ConnectorError as exc:
        recorder.record("tls", False, str(exc), time.perf_counter())
        return None
    check_dns_and_tcp(endpoint, recorder)
    if recorder.failed():
        return None
    started = time.perf_counter()
    try:
        client = connect(endpoint)
    except ConnectorError as exc:
        stage = getattr(exc, "stage", "tls")
        recorder.record(stage if stage in STAGES else "tls", False, str(exc), started)
        return None
    security = "not encrypted (this computer only)" if endpoint.security == "none" else "certificate verified"
    recorder.record("tls", True, security, started)
    return client


def check_dns_and_tcp(endpoint: Endpoint, recorder: StageRecorder) -> None:
    """Record the ``dns`` and ``tcp`` stages (the TCP probe connection is closed at once)."""
    started = time.perf_counter()
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        recorder.record("dns", False, f"the name {endpoint.host!r} could not be resolved ({exc})", started)
        return
    addresses = sorted({str(info[4][0]) for info in infos})
    recorder.record("dns", True, f"{endpoint.host} is {', '.join(addresses)}", started)
    started = time.perf_counter()
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=endpoint.timeout_s):
            pass
    except ConnectionRefusedError:
        recorder.record("tcp", False, f"port {endpoint.port} refused the connection", started)
        return
    except OSError as exc:
        recorder.record(
            "tcp", False, f"port {endpoint.port} cannot be reached ({exc.strerror or exc})", started
        )
        return
    recorder.record("tcp", True, f"port {endpoint.port} is open", started)


def diagnose_imap(
    endpoint: Endpoint,
    login: Login,
    *,
    account: str,
    folder: str,
    other_folders: Sequence[str] = (),
    check_folder: Callable[[ImapClient, str], str | None] | None = None,
) -> ConnectionTestResult:
    """Try every stage against an IMAP server; ``check_folder`` may add a problem for a folder."""
    recorder = StageRecorder()
    details: dict[str, Any] = {}
    client = connect_in_stages(endpoint, recorder, connect)
    if client is None:
        return _result(account, endpoint, recorder, details)
    try:
        started = time.perf_counter()
        try:
            client.log_in(login)
        except ConnectorError as exc:
            recorder.record("login", False, str(exc), started)
            return _result(account, endpoint, recorder, details)
        recorder.record("login", True, f"logged in as {login.username}", started)
        details["capabilities"] = [c for c in INTERESTING_CAPABILITIES if client.has(c)]
        _check_folders(client, recorder, [folder, *other_folders], check_folder)
    finally:
        client.logout()
    return _result(account, endpoint, recorder, details)


def _check_folders(
    client: ImapClient,
    recorder: StageRecorder,
    folders: Sequence[str],
    check_folder: Callable[[ImapClient, str], str | None] | None,
) -> None:
    started = time.perf_counter()
    opened: list[str] = []
    for name in dict.fromkeys(f for f in folders if f):
        try:
            status = client.select(name, readonly=True)
        except ConnectorError as exc:
            known = _folder_names(client)
            hint = f"; folders on the server: {', '.join(known[:20])}" if known else ""
            recorder.record("folder", False, f"{exc}{hint}", started)
            return
        problem = check_folder(client, name) if check_folder is not None else None
        if problem:
            recorder.record("folder", False, problem, started)
            return
        opened.append(f"{name} ({status.exists} messages)")
    recorder.record("folder", True, "opened " + ", ".join(opened), started)


def _folder_names(client: ImapClient) -> list[str]:
    try:
        return client.list_folders()
    except ConnectorError:
        return []


def _result(
    account: str, endpoint: Endpoint, recorder: StageRecorder, details: dict[str, Any], kind: str = "imap"
) -> ConnectionTestResult:
    return ConnectionTestResult(
        account=account,
        kind=kind,
        host=endpoint.host,
        port=endpoint.port,
        stages=tuple(recorder.stages),
        details=details,
    )
