"""The PostgreSQL fixtures: a real server, SQLAlchemy + psycopg, independent fresh databases."""

from __future__ import annotations

import sqlalchemy as sa

from tests.servers.postgres import PostgresServer


def test_select_one(postgres_database: str) -> None:
    """SQLAlchemy with the psycopg 3 driver connects over loopback TCP."""
    assert postgres_database.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = sa.create_engine(postgres_database)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
            version = connection.execute(sa.text("SHOW server_version_num")).scalar_one()
    finally:
        engine.dispose()
    assert int(version) >= 150000


def test_fresh_databases_are_independent(postgres: PostgresServer, postgres_database: str) -> None:
    """A table created in one fresh database does not exist in another."""
    other = postgres.create_database()
    first, second = sa.create_engine(postgres_database), sa.create_engine(postgres.url(other))
    try:
        with first.begin() as connection:
            connection.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY)"))
            connection.execute(sa.text("INSERT INTO note VALUES (1)"))
        assert "note" in sa.inspect(first).get_table_names()
        assert sa.inspect(second).get_table_names() == []
    finally:
        first.dispose()
        second.dispose()
        postgres.drop_database(other)


def test_server_runs_as_its_own_process(postgres: PostgresServer) -> None:
    """The postmaster is a process we started and listens only on loopback."""
    assert postgres.running
    assert postgres.pid is not None
    engine = sa.create_engine(postgres.url())
    try:
        with engine.connect() as connection:
            listen = connection.execute(sa.text("SHOW listen_addresses")).scalar_one()
    finally:
        engine.dispose()
    assert listen == "127.0.0.1"
