"""Fixtures for the CRM tests: the loopback fakes, and closing every connector a test built."""

from collections.abc import Iterator

import pytest

from tests.connectors.crm.helpers import CREATED
from tests.support_http.fixtures import hubspot_server, pipedrive_server, webhook_server

__all__ = ["hubspot_server", "pipedrive_server", "webhook_server"]


@pytest.fixture(autouse=True)
def _close_connectors() -> Iterator[None]:
    yield
    while CREATED:
        CREATED.pop().close()
