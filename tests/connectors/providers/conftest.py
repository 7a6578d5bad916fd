"""Fixtures for the provider tests: the loopback fakes, and closing every provider a test built."""

from collections.abc import Iterator

import pytest

from tests.connectors.providers.helpers import CREATED
from tests.support_http.fixtures import anthropic_server, openai_server

__all__ = ["anthropic_server", "openai_server"]


@pytest.fixture(autouse=True)
def _close_providers() -> Iterator[None]:
    yield
    while CREATED:
        CREATED.pop().close()
