"""A real PostgreSQL per test session (own initdb, free loopback port) and a fresh database per test.

Follows shared/notes/test-servers.md: the data directory belongs to `postgres` because the server
refuses to run as root. Durability is switched off (fsync, synchronous_commit, full_page_writes):
these are throw-away clusters and stopping is always clean.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import requires_binary
from tests.support.ports import LOOPBACK, free_port
from tests.support.processes import (
    START_TIMEOUT_S,
    ServerStartError,
    log_tail,
    start_process,
    stop_process,
    wait_for_port,
)

POSTGRES_BIN_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/opt/postgresql*/bin",
    "/opt/homebrew/opt/postgresql*/bin",
)
SUPERUSER = "postgres"
_START_ATTEMPTS = 3


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    host = LOOPBACK

    def __init__(self, bin_dir: Path, base_dir: Path) -> None:
        """Prepare a cluster under `base_dir` using the binaries in `bin_dir` (call initdb() next)."""
        self.bin_dir = bin_dir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.log_file = base_dir / "postgres.log"
        self.port = 0
        self.initdb_seconds = 0.0
        self.start_seconds: list[float] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._run_as = SUPERUSER if os.geteuid() == 0 else None
        if self._run_as is not None:
            shutil.chown(base_dir, self._run_as)

    @property
    def running(self) -> bool:
        """True while the postmaster is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """PID of the postmaster, or None when stopped."""
        return self._process.pid if self.running and self._process is not None else None

    def initdb(self) -> None:
        """Create the cluster (trust authentication, superuser `postgres`)."""
        started = time.monotonic()
        argv = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", SUPERUSER]
        argv += ["-E", "UTF8", "--locale=C", "--no-sync"]
        output = self.base_dir / "initdb.log"
        process = start_process(argv, output, user=self._run_as, cwd=self.base_dir)
        if process.wait(timeout=120) != 0:
            raise ServerStartError(f"initdb failed with {process.returncode}\n" + log_tail(output))
        self.initdb_seconds = time.monotonic() - started

    def start(self) -> None:
        """Start the postmaster (on a new free port the first time) and wait until it takes queries."""
        if self.running:
            return
        first_start = self.port == 0
        for attempt in range(1, _START_ATTEMPTS + 1):
            if first_start:
                self.port = free_port()
            try:
                self._start_once()
                return
            except ServerStartError:
                log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
                if not first_start or attempt == _START_ATTEMPTS or "could not bind" not in log:
                    raise

    def stop(self) -> None:
        """Fast shutdown: SIGINT to the postmaster PID, wait until it is gone."""
        if self._process is not None:
            stop_process(self._process, sig=signal.SIGINT)
            self._process = None

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string of `database` on this server."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database} connect_timeout=5"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name by default) and return its name."""
        import psycopg
        from psycopg import sql

        name = name or f"test_{secrets.token_hex(6)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting anyone still connected to it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _start_once(self) -> None:
        """Launch the postmaster in the foreground of its own process group and wait for it."""
        started = time.monotonic()
        argv = [
            str(self.bin_dir / "postgres"),
            "-D", str(self.data_dir),
            "-k", str(self.base_dir),
            "-p", str(self.port),
            "-c", f"listen_addresses={self.host}",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]  # fmt: skip
        self._process = start_process(argv, self.log_file, user=self._run_as, cwd=self.base_dir)
        try:
            wait_for_port(self.host, self.port, process=self._process, logs=[self.log_file])
            self._wait_until_ready(started)
        except ServerStartError:
            stop_process(self._process, sig=signal.SIGINT)
            self._process = None
            raise
        self.start_seconds.append(time.monotonic() - started)

    def _wait_until_ready(self, started: float) -> None:
        """Poll a connection until the server stops answering "the database system is starting up"."""
        import psycopg

        delay = 0.005
        while True:
            try:
                with psycopg.connect(self.conninfo()):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() - started > START_TIMEOUT_S:
                    raise ServerStartError(
                        f"PostgreSQL not ready: {exc}\n" + log_tail(self.log_file)
                    ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL for the whole session (skips outside CI when it is not installed)."""
    initdb = requires_binary("initdb", "postgresql", search_globs=POSTGRES_BIN_GLOBS)
    base_dir = Path(tempfile.mkdtemp(prefix="inbox-triage-postgres-"))
    server = PostgresServer(Path(initdb).parent, base_dir)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for this test; yields its SQLAlchemy URL and drops it afterwards."""
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)
