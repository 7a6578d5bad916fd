"""The egress allow-list end to end, through the real wiring: only configured services' hosts are
reachable; a call to any other host is refused before a connection is made and is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.ai_book import ProviderBook
from connectors.crm.book import CrmBook
from connectors.crm.settings import CrmSettings
from connectors.http import HttpClientFactory
from connectors.providers import build_provider
from desktop.wiring import WiredConnections, open_service, reconnect
from engine.ai.settings import with_defaults
from engine.queries import AuditFilter
from engine.service import TriageService
from tests.support.memory_keyring import MemoryKeyring
from tests.support_http.openai import OpenAIServer
from tests.support_http.secrets import DictSecrets


@pytest.fixture
def service(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[TriageService]:
    opened = open_service(tmp_path / "profile")
    yield opened
    opened.close()


def events(service: TriageService, action: str) -> list:  # type: ignore[type-arg]
    return service.queries.audit_events(AuditFilter(actions=(action,)), limit=1000)


def shared_http(service: TriageService) -> HttpClientFactory:
    connections = service.connections
    assert isinstance(connections, WiredConnections) and connections.http is not None
    return connections.http


def configure(service: TriageService, server: OpenAIServer, name: str = "gpt") -> None:
    ProviderBook(service.settings, service.connections.secrets).add(
        with_defaults("openai", name, base_url=f"{server.url}/v1", model="m", requests_per_minute=None),
        api_key="sk-test",
        steps=("classify",),
    )


def test_the_allow_list_holds_exactly_the_configured_services(service: TriageService) -> None:
    assert shared_http(service).policy.hosts == frozenset()
    ProviderBook(service.settings).add(with_defaults("anthropic", "claude", model="claude-sonnet-4-5"))
    CrmBook(service.settings).connect(CrmSettings(kind="webhook", base_url="https://hooks.example.net/t/1"))
    reconnect(service)
    assert shared_http(service).policy.hosts == {"api.anthropic.com", "hooks.example.net"}
    connections = service.connections
    assert [p.name for p in connections.ai_providers] == ["claude"]
    assert connections.classify_chain == () and connections.draft_chain == ()
    assert connections.crm is not None and connections.crm.destination == "hooks.example.net"


def test_a_host_no_service_names_is_refused_without_connecting_and_audited(service: TriageService) -> None:
    with OpenAIServer() as allowed, OpenAIServer(host="127.0.0.2") as other:
        configure(service, allowed)
        reconnect(service)
        http = shared_http(service)
        assert http.policy.hosts == {"127.0.0.1"}
        [configured] = service.connections.classify_chain
        assert configured.destination == "127.0.0.1"
        # A connector for a host no configured service names, built on the same factory.
        rogue_settings = with_defaults("openai", "rogue", base_url=f"{other.url}/v1", model="m")
        rogue = build_provider(rogue_settings, http, DictSecrets({rogue_settings.secret_name: "sk-test"}))
        try:
            result = rogue.test_connection()
        finally:
            rogue.close()
        assert not result.ok and "127.0.0.2" in result.message
        assert other.connections == 0 and other.recorded() == []
        assert configured.test_connection().ok  # type: ignore[attr-defined]  # a ProviderBase
        assert len(allowed.recorded()) == 1

    [refused] = events(service, "egress.refused")
    assert (refused.destination, refused.outcome) == ("127.0.0.2", "refused")
    assert refused.detail == {"method": "POST", "path": "/v1/chat/completions", "purpose": "ai:rogue"}
    [call] = events(service, "egress.call")
    assert (call.destination, call.outcome, call.detail["purpose"]) == ("127.0.0.1", "2xx", "ai:gpt")
    assert call.detail["status"] == 200 and isinstance(call.detail["elapsed_ms"], int)


def test_removing_a_provider_stops_traffic_even_from_clients_already_built(service: TriageService) -> None:
    with OpenAIServer() as server:
        configure(service, server)
        reconnect(service)
        old_http = shared_http(service)  # the factory the old connectors were built on
        ProviderBook(service.settings).remove("gpt")
        reconnect(service)
        assert service.connections.classify_chain == ()
        assert shared_http(service).policy.hosts == frozenset()
        before = server.connections
        # Work still holding a client of the old factory is refused at once too.
        stale = build_provider(
            with_defaults("openai", "gpt", base_url=f"{server.url}/v1", model="m"),
            old_http,
            DictSecrets({"ai-provider:gpt": "sk-test"}),
        )
        try:
            assert not stale.test_connection().ok
        finally:
            stale.close()
        assert server.connections == before and server.recorded() == []
    [refused] = events(service, "egress.refused")
    assert refused.destination == "127.0.0.1" and refused.detail["purpose"] == "ai:gpt"
