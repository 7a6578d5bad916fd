"""Fixtures of the Graph connector tests: the fake Microsoft server and connectors pointed at it."""

from tests.connectors.graph.fake_graph import fake_microsoft
from tests.connectors.graph.helpers import graph
from tests.connectors.imap.helpers import engine_db

__all__ = ["engine_db", "fake_microsoft", "graph"]
