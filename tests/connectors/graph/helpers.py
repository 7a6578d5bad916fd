"""Graph connectors pointed at the fake Microsoft server, with every HTTP call recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from connectors.graph.auth import DeviceCode, GraphAuth
from connectors.graph.client import GraphClient
from connectors.graph.limits import MailboxLimits
from connectors.graph.sender import GraphSender
from connectors.graph.source import GraphProcessed, GraphSource
from connectors.http import EgressEvent, EgressPolicy, HttpClientFactory
from tests.connectors.graph.fake_graph import CLIENT_ID, TENANT, FakeMicrosoft

CACHE_NAME = "account:m365:msal-cache"


class DictSecrets:
    """A SecretStore in a dict (the keyring is not what these tests are about)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@dataclass
class GraphHarness:
    """Auth, clients, sources and senders for the fake; egress limited to 127.0.0.1 and recorded."""

    fake: FakeMicrosoft
    ca_file: str
    secrets: DictSecrets = field(default_factory=DictSecrets)
    events: list[EgressEvent] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    codes: list[DeviceCode] = field(default_factory=list)
    allowed_hosts: tuple[str, ...] = ("127.0.0.1",)
    _closers: list[GraphClient | GraphAuth] = field(default_factory=list)

    @property
    def http(self) -> HttpClientFactory:
        return HttpClientFactory(EgressPolicy(self.allowed_hosts), self.events.append)

    def auth(self) -> GraphAuth:
        auth = GraphAuth(
            client_id=CLIENT_ID,
            tenant=TENANT,
            authority_host=self.fake.origin,
            secrets=self.secrets,
            cache_name=CACHE_NAME,
            http=self.http,
            verify=self.ca_file,
        )
        self._closers.append(auth)
        return auth

    def signed_in(self) -> GraphAuth:
        auth = self.auth()
        auth.sign_in_device_code(self.codes.append)
        return auth

    def client(self, auth: GraphAuth | None = None, *, limits: MailboxLimits | None = None) -> GraphClient:
        client = GraphClient(
            token=(auth or self.signed_in()).token,
            http=self.http,
            base_url=self.fake.graph_url,
            verify=self.ca_file,
            limits=limits,
            sleep=self.waits.append,
        )
        self._closers.append(client)
        return client

    def source(self, client: GraphClient | None = None, **kwargs: object) -> GraphSource:
        return GraphSource(client or self.client(), account="m365", page_size=3, **kwargs)  # type: ignore[arg-type]

    def sender(self, client: GraphClient | None = None) -> GraphSender:
        return GraphSender(client or self.client())

    def processed(self, action: str, **kwargs: str) -> GraphProcessed:
        return GraphProcessed(action, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        for client in self._closers:
            client.close()


@pytest.fixture
def graph(fake_microsoft: FakeMicrosoft) -> Iterator[GraphHarness]:
    harness = GraphHarness(fake_microsoft, str(fake_microsoft.ca_file))
    yield harness
    harness.close()
