"""Fixtures for the audit tests."""

from __future__ import annotations

from types import ModuleType

import pytest

from engine.audit.event import AuditEvent
from tests.engine.audit.helpers import DictSecretStore, build_chain, load_tool


@pytest.fixture
def chain() -> list[AuditEvent]:
    """Twelve varied events chained from genesis."""
    return build_chain(12)


@pytest.fixture
def secret_store() -> DictSecretStore:
    """An empty, working secret store."""
    return DictSecretStore()


@pytest.fixture(scope="session")
def tool() -> ModuleType:
    """tools/verify_audit_export.py as a module."""
    return load_tool()
