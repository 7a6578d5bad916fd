"""Property tests: any bytes that arrive end as a run that rests (waiting, closed) or as quarantined mail.

Arbitrary bytes and mutated real messages go through ingest and the whole workflow: no exception
escapes, nothing ends ``failed``, and nothing is lost.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.demo import demo_mailbox_dir
from connectors.outbox import OutboxFolderSender
from engine.ingest import store_message
from engine.ports import RawMessage
from engine.profile import Profile
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings

SAMPLES = [p.read_bytes() for p in sorted(demo_mailbox_dir().glob("*.eml"))]
_counter = itertools.count()


@pytest.fixture(scope="module")
def service() -> Iterator[TriageService]:
    with tempfile.TemporaryDirectory() as tmp:
        profile = Profile(Path(tmp))
        db = open_database(profile)
        svc = TriageService(
            profile, db, Connections(sender=OutboxFolderSender(profile.outbox_dir), sources={})
        )
        svc.settings.save_office(
            OfficeSettings(office_name="Test Office", reply_from="o@example.org"), actor=None
        )
        svc.classifier()
        yield svc
        svc.close()


def ingest_and_run(service: TriageService, raw: bytes) -> str:
    message = RawMessage(account="prop", folder="INBOX", raw=raw, source_key=f"m{next(_counter)}")
    with service.db.write() as conn:
        run_id = store_message(conn, message, now=service.now())
    if run_id is None:  # a duplicate Message-ID: the first copy's run stands
        return "duplicate"
    service.runner().drive(run_id)
    run = service.queries.run(run_id)
    assert run.state in ("waiting_review", "completed", "quarantined"), (run.state, run.error)
    return run.state


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate_header"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif op == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[position : position + draw(st.integers(1, 60))]
        elif op == "truncate":
            del data[position:]
        else:
            end = data.find(b"\n", position)
            line = bytes(data[position : end + 1 if end >= 0 else len(data)])
            data[position:position] = line
    return bytes(data)


COMMON = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@COMMON
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_never_fail(service: TriageService, raw: bytes) -> None:
    ingest_and_run(service, raw)


@COMMON
@given(raw=mutated())
def test_mutated_real_messages_never_fail(service: TriageService, raw: bytes) -> None:
    ingest_and_run(service, raw)


def test_header_only_garbage_is_quarantined_with_a_reason(service: TriageService) -> None:
    assert ingest_and_run(service, b"\x00\x01\x02 not an email at all") == "quarantined"
    assert ingest_and_run(service, b"X-Only: header\r\n\r\nbody") == "quarantined"
    assert ingest_and_run(service, b"   \n") == "quarantined"
