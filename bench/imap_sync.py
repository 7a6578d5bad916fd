"""Benchmark: a 10,000-message IMAP mailbox into the engine, against mbsync pulling the same mailbox.

A real Dovecot on loopback (IMAPS, the same fixture code the tests use) serves one mailbox of N
generated office emails (bench/mailgen.py; ~3 KB each). The mailbox is seeded once, straight into
its Maildir (arrival times spread over the last days), and reused by later runs from
``--cache DIR``. Dovecot indexes it before anything is timed. Then, in the same run:

- ``mbsync_s``: ``mbsync`` (isync) pulls the mailbox into an empty Maildir over IMAPS; the best
  of three runs (all three in ``mbsync_runs_s``), so the ratios are the strictest.
- ``ingest_s``: the first sync of a fresh profile (SQLite, WAL, synchronous=FULL): the IMAP
  source downloads every message (``UID FETCH ... BODY.PEEK[]`` in batches) and the engine stores
  each batch durably with its cursor — one run per email.
- ``triage_s``: the full offline triage of those runs (rules + local model, template drafts,
  local CRM, routing; processed mail flagged ``$Triaged`` over IMAP, one UID STORE per email) in
  ``--processes`` processes (default: one per CPU core; this one plus ``work`` processes, started
  inside the timing). ``triage_total_s`` = ingest + triage, one after the other.
- ``first_sync_s``: what an office sees on first connect — one poll of another fresh profile in
  the same number of processes, so triage runs while the download is still going
  (``run --once --processes N``).
- ``no_news_poll``: polls that find nothing new, on the reused connection — the IMAP commands one
  poll sends (counted by a loopback proxy on plain IMAP, and by the client) and its milliseconds
  over IMAPS, for the source alone and for the service's whole poll.
- ``idle``: IDLE push — a message appended with a separate connection until its run exists
  (IdleWatcher → IdlePush → scheduler poll), median and max of several.

The profiles are set up as an office would: the IMAP account added with ``accounts add imap``,
its password in a keyring (a file-backed test keyring here, which the worker processes share).

Targets (issue 4): ingest ≤ 1.5 × mbsync, full triage ≤ 4 × mbsync, a no-news poll ≤ 3 commands
and ≤ 20 ms, IDLE → run ≤ 2 s. Last line: JSON.

Usage: python bench/imap_sync.py [--emails N] [--processes N] [--cache DIR] [--idle-samples N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.mailgen import generate
from connectors.imap.endpoint import Endpoint, Security
from connectors.imap.idle import IdleWatcher
from connectors.imap.login import PasswordLogin
from connectors.imap.session import ImapSession
from connectors.imap.source import ImapSource
from desktop.cli.commands.runs import IdlePush
from desktop.cli.main import run_cli
from desktop.scheduling import PollScheduler
from desktop.wiring import open_service
from desktop.worker_processes import extra_processes, poll_in_processes
from engine.ingest import ingest_source, load_cursor
from engine.service import PollReport, TriageService
from engine.settings import OfficeSettings, ScheduleSettings
from tests.connectors.imap.proxy import CountingProxy
from tests.servers.dovecot import DovecotServer
from tests.support.binaries import find_binary
from tests.support.certs import generate_certificates
from tests.support.file_keyring import use_file_keyring

USER, PASSWORD = "bench", "bench-password"
ACCOUNT = "office"


def _server(cache: Path) -> DovecotServer:
    """A Dovecot on the cached mailbox directory (created on first use)."""
    binary = find_binary("dovecot", ("/usr/sbin",))
    if binary is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    base = cache / "dovecot"
    base.mkdir(parents=True, exist_ok=True)
    certificates = generate_certificates(cache / "certs")
    server = DovecotServer(binary, base, certificates)
    server.users = {USER: PASSWORD}
    server._write_users()  # only the bench user
    return server


def _seed(server: DovecotServer, count: int) -> None:
    """Write ``count`` generated messages straight into the Maildir (once; skipped when present)."""
    cur = server.maildir_path(USER) / "cur"
    stamp = server.maildir_path(USER) / ".bench-seeded"
    if stamp.exists() and stamp.read_text() == str(count):
        return
    if server.maildir_path(USER).exists():
        shutil.rmtree(server.maildir_path(USER))
    for sub in ("cur", "new", "tmp"):
        (server.maildir_path(USER) / sub).mkdir(parents=True, exist_ok=True)
    now = time.time()
    for index, mail in enumerate(generate(count, seed=21)):
        path = cur / f"{1_700_000_000 + index}.M{index}P1.bench:2,"
        path.write_bytes(mail.raw)
        arrived = now - (count - index) * 30  # one every 30 s, the newest just now
        os.utime(path, (arrived, arrived))
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(server.maildir_path(USER)):
            for name in dirs + files:
                shutil.chown(os.path.join(root, name), "nobody", "nogroup")
            shutil.chown(root, "nobody", "nogroup")
    stamp.write_text(str(count))


def _remove(server: DovecotServer, uids: list[int]) -> None:
    """Expunge exactly these UIDs (the IDLE samples) from the INBOX."""
    if not uids:
        return
    connection = server.connect(USER, PASSWORD)
    try:
        connection.select("INBOX")
        spec = ",".join(str(uid) for uid in uids)
        connection.uid("STORE", spec, "+FLAGS.SILENT", "(\\Deleted)")
        connection.uid("EXPUNGE", spec)
    finally:
        connection.logout()


def _endpoint(server: DovecotServer, security: Security = "tls", port: int | None = None) -> Endpoint:
    default = server.imaps_port if security == "tls" else server.imap_port
    return Endpoint(server.host, port or default, security, ca_file=str(server.ca_file), timeout_s=30)


def _session(server: DovecotServer, security: Security = "tls", port: int | None = None) -> ImapSession:
    return ImapSession(
        _endpoint(server, security, port), PasswordLogin(USER, lambda: PASSWORD), account=ACCOUNT
    )


def _mbsync(server: DovecotServer, work: Path, runs: int = 3) -> list[float]:
    """Seconds for mbsync to pull the mailbox into an empty Maildir over IMAPS, ``runs`` times."""
    binary = find_binary("mbsync")
    if binary is None:
        raise SystemExit("mbsync is not installed (apt-get install isync)")
    times: list[float] = []
    for attempt in range(runs):
        maildir = work / f"mbsync-maildir-{attempt}"
        maildir.mkdir()
        config = work / f"mbsyncrc-{attempt}"
        config.write_text(
            f"IMAPAccount bench\nHost localhost\nPort {server.imaps_port}\nUser {USER}\nPass {PASSWORD}\n"
            f"SSLType IMAPS\nCertificateFile {server.ca_file}\n\n"
            "IMAPStore remote\nAccount bench\n\n"
            f"MaildirStore local\nPath {maildir}/\nInbox {maildir}/INBOX\n\n"
            "Channel pull\nFar :remote:INBOX\nNear :local:INBOX\n"
            "Sync Pull\nCreate Near\nExpunge None\nSyncState *\n"
        )
        started = time.perf_counter()
        subprocess.run([binary, "-c", str(config), "-q", "pull"], check=True, cwd=work)
        elapsed = time.perf_counter() - started
        pulled = len(list((maildir / "INBOX" / "cur").iterdir())) + len(
            list((maildir / "INBOX" / "new").iterdir())
        )
        print(f"mbsync: {pulled} messages in {elapsed:.2f} s", flush=True)
        shutil.rmtree(maildir)
        times.append(elapsed)
    return times


def _service(root: Path, server: DovecotServer) -> tuple[TriageService, ImapSource]:
    """A fresh profile with the mailbox added as its IMAP account (``accounts add imap``)."""
    command = [
        "--profile", str(root), "accounts", "add", "imap", ACCOUNT, "--host", server.host,
        "--port", str(server.imaps_port), "--user", USER, "--ca-file", str(server.ca_file),
        "--password-stdin",
    ]  # fmt: skip
    stdin, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
    try:
        if run_cli(command) != 0:
            raise SystemExit("could not add the IMAP account")
    finally:
        sys.stdin = stdin
    service = open_service(root)
    service.settings.save_office(
        OfficeSettings(office_name="Bench Office", reply_from="office@example.org"), actor="bench"
    )
    service.classifier()  # trained and cached before timing, as in a real profile
    source = service.connections.sources[ACCOUNT]
    assert isinstance(source, ImapSource)
    return service, source


def _no_news(
    server: DovecotServer, service: TriageService, source: ImapSource, cursor: dict[str, Any]
) -> dict[str, Any]:
    """Commands and milliseconds of polls that find nothing new."""
    proxy = CountingProxy(server.host, server.imap_port)
    try:
        plain = ImapSource(_session(server, "none", proxy.port))
        list(plain.fetch(cursor))  # connect
        proxy.reset()
        before = plain.session.commands_sent
        assert list(plain.fetch(cursor)) == []
        wire_commands = proxy.commands
        client_commands = plain.session.commands_sent - before
        plain.close()
        proxy.reset()
        fresh = ImapSource(_session(server, "none", proxy.port))
        assert list(fresh.fetch(cursor)) == []
        fresh_commands = proxy.commands
        fresh.close()
    finally:
        proxy.close()
    source_ms, poll_ms = [], []
    for _ in range(50):
        started = time.perf_counter()
        assert list(source.fetch(cursor)) == []
        source_ms.append((time.perf_counter() - started) * 1000)
    for _ in range(20):
        started = time.perf_counter()
        report = service.poll()
        poll_ms.append((time.perf_counter() - started) * 1000)
        assert report.ingest.fetched == 0, report
    return {
        "commands_on_the_wire": len(wire_commands),
        "commands": wire_commands,
        "client_counted_commands": client_commands,
        "fresh_connection_commands": fresh_commands,
        "source_ms_median": round(statistics.median(source_ms), 2),
        "source_ms_max": round(max(source_ms), 2),
        "service_poll_ms_median": round(statistics.median(poll_ms), 2),
    }


def _idle_latency(server: DovecotServer, service: TriageService, samples: int) -> dict[str, Any]:
    """Seconds from APPEND (another connection) to the run existing, through IDLE → poll."""
    stop = threading.Event()
    polled = threading.Condition()
    created: list[float] = []

    def on_polled(result: object) -> None:
        if isinstance(result, PollReport) and result.ingest.new_runs:
            with polled:
                created.append(time.perf_counter())
                polled.notify_all()

    schedule = ScheduleSettings(poll_minutes=60, working_hours_only=False)
    scheduler = PollScheduler(lambda: service.poll(stop=stop), lambda: schedule, on_polled=on_polled)
    push = IdlePush(lambda: scheduler.run_once(manual=True), stop)
    watcher = IdleWatcher(
        _endpoint(server),
        PasswordLogin(USER, lambda: PASSWORD),
        account=ACCOUNT,
        folder="INBOX",
        on_new_mail=push.notify,
    )
    push.watchers = [watcher]
    push.start_polling()
    watcher.start()
    latencies: list[float] = []
    added: list[int] = []
    try:
        if not watcher.idling.wait(10):
            raise RuntimeError("IDLE did not start")
        for index, mail in enumerate(generate(samples, seed=99)):
            raw = mail.raw.replace(b"Message-ID: <", f"Message-ID: <idle{index}-".encode(), 1)
            started = time.perf_counter()
            added.append(server.append(USER, "INBOX", raw))
            with polled:
                if not polled.wait_for(lambda want=index: len(created) > want, timeout=10):
                    raise RuntimeError("no run within 10 s of the append")
            latencies.append(created[index] - started)
    finally:
        stop.set()
        push.stop()
        _remove(server, added)  # leave the cached mailbox as it was
    return {
        "samples": samples,
        "append_to_run_s_median": round(statistics.median(latencies), 3),
        "append_to_run_s_max": round(max(latencies), 3),
        "idle_notifications": watcher.notifications,
    }


def _first_sync(root: Path, server: DovecotServer, args: argparse.Namespace) -> float:
    """Seconds of one poll of a fresh profile: download and triage together in N processes."""
    service, _ = _service(root, server)
    try:
        started = time.perf_counter()
        report = poll_in_processes(service, args.processes)
        elapsed = time.perf_counter() - started
        states = service.queries.state_counts().counts
    finally:
        service.close()
    assert report.ingest.new_runs == args.emails, report.ingest
    assert sum(states.values()) == args.emails and not states.get("pending"), states
    print(
        f"first sync: {report.ingest.new_runs} downloaded and {report.runner.runs} triaged in "
        f"{elapsed:.2f} s in {args.processes} process(es)",
        flush=True,
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "inbox-triage-bench-imap")
    parser.add_argument("--idle-samples", type=int, default=5)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    server = _server(args.cache)
    started = time.perf_counter()
    _seed(server, args.emails)
    seeded_s = time.perf_counter() - started
    server.start()
    try:
        warm = _session(server)
        status = warm.run(lambda c: c.select("INBOX", readonly=True))  # Dovecot builds its index here
        warm.close()
        if status.exists != args.emails:  # an interrupted earlier run left extra mail: seed again
            server.stop()
            (server.maildir_path(USER) / ".bench-seeded").unlink()
            _seed(server, args.emails)
            server.start()
            warm = _session(server)
            status = warm.run(lambda c: c.select("INBOX", readonly=True))
            warm.close()
        print(f"mailbox: {status.exists} messages (seeding {seeded_s:.1f} s, reused when 0)", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            use_file_keyring(work / "keyring.json")
            mbsync_runs = _mbsync(server, work)
            mbsync_s = min(mbsync_runs)  # its best run: the ratios below are the strictest
            service, source = _service(work / "profile", server)
            started = time.perf_counter()
            ingest = ingest_source(service.db, source)
            ingest_s = time.perf_counter() - started
            print(
                f"ingest: {ingest.new_runs} runs in {ingest_s:.2f} s ({ingest.batches} batches)", flush=True
            )
            started = time.perf_counter()
            with extra_processes(service, args.processes) as extra:
                stats = service.process()
            stats.add(extra.stats)
            triage_s = time.perf_counter() - started
            states = service.queries.state_counts().counts
            print(
                f"triage: {stats.runs} runs in {triage_s:.2f} s in {args.processes} process(es); "
                f"states {dict(sorted(states.items()))}",
                flush=True,
            )
            assert sum(states.values()) == args.emails and not states.get("pending"), states
            first_sync_s = _first_sync(work / "first-sync", server, args)
            cursor = load_cursor(service.db, ACCOUNT)
            assert cursor is not None
            no_news = _no_news(server, service, source, cursor)
            print(f"no-news poll: {no_news}", flush=True)
            idle = _idle_latency(server, service, args.idle_samples)
            print(f"IDLE: {idle}", flush=True)
            service.close()
    finally:
        server.stop()
    figures = {
        "emails": args.emails,
        "mbsync_s": round(mbsync_s, 3),
        "mbsync_runs_s": [round(t, 3) for t in mbsync_runs],
        "ingest_s": round(ingest_s, 3),
        "ingest_vs_mbsync": round(ingest_s / mbsync_s, 2),
        "triage_s": round(triage_s, 3),
        "triage_total_s": round(ingest_s + triage_s, 3),
        "triage_total_vs_mbsync": round((ingest_s + triage_s) / mbsync_s, 2),
        "processes": args.processes,
        "first_sync_s": round(first_sync_s, 3),
        "first_sync_vs_mbsync": round(first_sync_s / mbsync_s, 2),
        "states": dict(sorted(states.items())),
        "no_news_poll": no_news,
        "idle": idle,
        "targets": {
            "ingest_vs_mbsync_max": 1.5,
            "triage_total_vs_mbsync_max": 4.0,
            "no_news_commands_max": 3,
            "no_news_ms_max": 20,
            "idle_to_run_s_max": 2.0,
        },
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
