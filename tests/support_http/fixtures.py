"""Pytest fixtures that start each fake on loopback and stop it after the test.

Import the ones a test package needs into its ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support_http.anthropic import AnthropicServer
from tests.support_http.hubspot import HubSpotServer
from tests.support_http.openai import OpenAIServer
from tests.support_http.pipedrive import PipedriveServer
from tests.support_http.webhook import WebhookServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fake OpenAI-compatible endpoint (key ``sk-test``)."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A fake Anthropic Messages endpoint (key ``sk-ant-test``)."""
    with AnthropicServer() as server:
        yield server


@pytest.fixture
def hubspot_server() -> Iterator[HubSpotServer]:
    """A fake HubSpot CRM (token ``pat-na1-test``)."""
    with HubSpotServer() as server:
        yield server


@pytest.fixture
def pipedrive_server() -> Iterator[PipedriveServer]:
    """A fake Pipedrive (token ``pd-test-token``)."""
    with PipedriveServer() as server:
        yield server


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    """A webhook receiver (secret ``whsec-test``) at ``/hook``."""
    with WebhookServer() as server:
        yield server
