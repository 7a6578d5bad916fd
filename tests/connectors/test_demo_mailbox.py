"""The bundled demo mailbox: complete, consistent, fictional, and covering every case it promises.

The raw bytes are checked with the standard library's ``email`` package (``compat32``, which never
raises on headers), independently of the engine's parser; the quarantine rule is checked against
the engine's own :func:`~engine.mail.parse.quarantine_reason` so the two stay in agreement.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import cache
from pathlib import Path

import connectors.demo as demo_package
from connectors.demo import MANIFEST_NAME, QUARANTINE, DemoEntry, demo_mailbox_dir, demo_manifest
from engine.categories import ALL_CATEGORIES
from engine.mail.model import ParsedEmail, Quarantined
from engine.mail.parse import EMPTY, NO_HEADERS, NOT_AN_EMAIL, parse_message, quarantine_reason

REPO = Path(__file__).resolve().parents[2]
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")
UK_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?|0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d)")
ADDRESS = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
ALLOWED_DOMAINS = ("example", "example.com", "example.net", "example.org", "thornburywebb.co.uk")
RESERVED_PHONE_PREFIXES = ("01174960", "07700900")


@cache
def entries() -> tuple[DemoEntry, ...]:
    return tuple(demo_manifest())


@cache
def raw(name: str) -> bytes:
    return (demo_mailbox_dir() / name).read_bytes()


def emails() -> Iterator[tuple[DemoEntry, Message]]:
    """Every entry that is an email, with its stdlib parse."""
    for entry in entries():
        if entry.expected != QUARANTINE:
            yield entry, message_from_bytes(raw(entry.file), policy=policy.compat32)


def text_parts(message: Message) -> Iterator[Message]:
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            yield part


def decoded_text(message: Message) -> str:
    """The header block and every text part decoded (with replacement), joined."""
    chunks = [str(value) for value in message.values()]
    for part in text_parts(message):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            chunks.append(payload.decode(part.get_content_charset() or "us-ascii", "replace"))
    return "\n".join(chunks)


def message_id(message: Message) -> str:
    return str(message["Message-ID"]).strip()


# --- completeness ---------------------------------------------------------------------------


def test_there_are_at_least_45_files_and_the_manifest_matches_the_folder_exactly() -> None:
    files = sorted(p.name for p in demo_mailbox_dir().iterdir() if p.name != MANIFEST_NAME)
    listed = [entry.file for entry in entries()]
    assert len(files) >= 45
    assert all(name.endswith(".eml") for name in files)
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(listed) == files


def test_every_category_is_covered_several_times() -> None:
    counts = Counter(entry.expected for entry in entries())
    assert set(counts) <= {*ALL_CATEGORIES, QUARANTINE}
    for category in ALL_CATEGORIES:
        assert counts[category] >= (2 if category in ("spam", "other") else 3), (category, counts)
    assert counts[QUARANTINE] >= 3
    assert all(entry.notes for entry in entries())


def test_manifest_json_shape() -> None:
    data = json.loads((demo_mailbox_dir() / MANIFEST_NAME).read_text("utf-8"))
    for item in data:
        assert set(item) <= {"file", "expected", "thread", "notes"}
        assert {"file", "expected", "notes"} <= set(item)


def test_line_endings_are_consistently_lf() -> None:
    for entry, _message in emails():
        data = raw(entry.file)
        assert b"\r" not in data, entry.file
        assert data.endswith(b"\n"), entry.file


# --- identity and threads -------------------------------------------------------------------


def test_message_ids_are_present_and_unique() -> None:
    ids = [message_id(message) for _entry, message in emails()]
    assert all(re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", mid) for mid in ids), ids
    assert len(ids) == len(set(ids))


def test_thread_replies_point_at_messages_in_the_demo_mailbox() -> None:
    by_id = {message_id(message): (entry, message) for entry, message in emails()}
    threads: dict[str, list[DemoEntry]] = {}
    replies = 0
    for entry, message in emails():
        if entry.thread is None:
            continue
        threads.setdefault(entry.thread, []).append(entry)
        parent_id = message["In-Reply-To"]
        if parent_id is None:
            continue
        replies += 1
        parent_entry, _parent = by_id[str(parent_id).strip()]
        assert parent_entry.thread == entry.thread, entry.file
        assert parent_entry.file < entry.file, "a reply comes after what it answers"
        references = str(message["References"] or "").split()
        assert references and references[-1] == str(parent_id).strip(), entry.file
        assert all(ref in by_id for ref in references), entry.file
        body = decoded_text(message)
        assert re.search(r"^(On .+ wrote:|-----Original Message-----)$", body, re.M), entry.file
    assert len(threads) >= 4
    assert all(len(members) >= 2 for members in threads.values())
    assert any(len(members) >= 3 for members in threads.values())
    assert replies >= 6


def test_quoted_history_and_signatures_are_present() -> None:
    quoted = [entry.file for entry, message in emails() if re.search(r"^>", decoded_text(message), re.M)]
    nested = [entry.file for entry, message in emails() if re.search(r"^>>", decoded_text(message), re.M)]
    signed = [entry.file for entry, message in emails() if re.search(r"^-- $", decoded_text(message), re.M)]
    assert len(quoted) >= 5
    assert nested
    assert len(signed) >= 3


def test_dates_are_spread_over_november_2026() -> None:
    days = set()
    bad_dates = []
    for entry, message in emails():
        try:
            when = parsedate_to_datetime(str(message["Date"])).astimezone(UTC)
        except (TypeError, ValueError):
            bad_dates.append(entry.file)
            continue
        assert (when.year, when.month) == (2026, 11), entry.file
        days.add(when.day)
    assert len(bad_dates) == 1, "exactly one message has a deliberately garbage Date"
    assert min(days) <= 3
    assert max(days) >= 23
    assert len(days) >= 15


# --- the cases the mailbox promises to exercise ---------------------------------------------


def html_only(message: Message) -> bool:
    types = {part.get_content_type() for part in text_parts(message)}
    return "text/html" in types and "text/plain" not in types


def test_html_only_mail_including_one_with_a_script_and_a_remote_image() -> None:
    html = [(entry, message) for entry, message in emails() if html_only(message)]
    assert len(html) >= 3
    hostile = [
        entry.file
        for entry, message in html
        if re.search(r"<script", decoded_text(message), re.I)
        and re.search(r"<img[^>]+src=\"https?://", decoded_text(message), re.I)
    ]
    assert hostile


def test_charsets_encodings_and_encoded_words() -> None:
    charsets: set[str] = set()
    encodings: set[str] = set()
    mislabelled: list[str] = []
    encoded_subjects = encoded_names = 0
    for entry, message in emails():
        for part in text_parts(message):
            charset = (part.get_content_charset() or "us-ascii").lower()
            charsets.add(charset)
            encodings.add(str(part.get("Content-Transfer-Encoding", "7bit")).lower())
            payload = part.get_payload(decode=True)
            try:
                assert isinstance(payload, bytes)
                payload.decode(charset)
            except UnicodeDecodeError:
                mislabelled.append(entry.file)
        encoded_subjects += bool(ENCODED_WORD.search(str(message["Subject"] or "")))
        encoded_names += bool(ENCODED_WORD.search(str(message["From"] or "")))
    assert {"iso-8859-1", "windows-1252"} <= charsets
    assert charsets & {"koi8-r", "shift_jis"}
    assert {"quoted-printable", "base64"} <= encodings
    assert mislabelled, "one message's declared charset does not match its bytes"
    assert encoded_subjects >= 3
    assert encoded_names >= 3


def test_a_small_valid_pdf_attachment() -> None:
    pdfs = []
    for _entry, message in emails():
        for part in message.walk():
            if part.get_content_type() == "application/pdf":
                pdfs.append((part.get_filename(), part.get_payload(decode=True)))
    assert pdfs
    name, data = pdfs[0]
    assert isinstance(name, str)
    assert name.endswith(".pdf")
    assert isinstance(data, bytes)
    assert len(data) < 10_000
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    assert data[startxref:].startswith(b"xref")
    table = re.search(rb"xref\s+0 (\d+)\s+((?:\d{10} \d{5} [fn] ?\s+)+)", data[startxref:])
    assert table is not None
    rows = re.findall(rb"(\d{10}) (\d{5}) ([fn])", table.group(2))
    assert len(rows) == int(table.group(1))
    for number, (offset, _generation, kind) in enumerate(rows):
        if kind == b"n":
            assert data[int(offset) :].startswith(b"%d 0 obj" % number)


def test_automated_mail_carries_the_usual_markers() -> None:
    markers = Counter()
    for entry, message in emails():
        if entry.expected != "notification":
            continue
        markers["list-id"] += message["List-Id"] is not None and message["List-Unsubscribe"] is not None
        markers["auto-replied"] += str(message["Auto-Submitted"] or "").startswith("auto-replied")
        markers["auto-generated"] += str(message["Auto-Submitted"] or "") == "auto-generated"
    assert markers["list-id"] >= 1
    assert markers["auto-replied"] >= 1
    assert markers["auto-generated"] >= 1


def test_uk_personal_data_is_present_and_only_reserved_numbers_are_used() -> None:
    corpus = "\n".join(decoded_text(message) for _entry, message in emails())
    assert "0117 496 0123" in corpus
    assert "+44 7700 900123" in corpus
    assert "BS1 4DJ" in corpus
    assert re.search(r"\bQQ ?12 ?34 ?56 ?C\b", corpus)
    assert "01174960219" in corpus, "an order number that looks like a phone number"
    checked = 0
    for match in UK_PHONE.finditer(corpus):
        digits = re.sub(r"\D", "", match.group())
        national = "0" + digits[2:] if match.group().startswith("+44") else digits
        if set(national) == {"0"}:
            continue  # an obviously blanked-out placeholder number
        assert national.startswith(RESERVED_PHONE_PREFIXES), match.group()
        checked += 1
    assert checked >= 20


def test_only_example_and_office_domains_appear_in_addresses() -> None:
    checked = 0
    for entry, message in emails():
        for found in ADDRESS.findall(decoded_text(message)):
            domain = found.lower()
            assert any(domain == d or domain.endswith("." + d) for d in ALLOWED_DOMAINS), (entry.file, domain)
            checked += 1
    assert checked >= 100


def test_the_prompt_injection_email_looks_like_an_enquiry() -> None:
    found = [
        (entry, message)
        for entry, message in emails()
        if re.search(r"ignore (all )?your previous instructions", decoded_text(message), re.I)
    ]
    assert len(found) == 1
    entry, message = found[0]
    text = decoded_text(message)
    assert entry.expected == "enquiry"
    assert "x@evil.example" in text
    assert re.search(r"forward all customer emails", text, re.I)
    assert re.search(r"https?://\S+evil\.example", text)


# --- malformed messages ----------------------------------------------------------------------


def test_quarantine_cases_follow_the_agreed_rule() -> None:
    reasons = {}
    for entry in entries():
        reason = quarantine_reason(raw(entry.file))
        assert (reason is not None) == (entry.expected == QUARANTINE), (entry.file, reason)
        if reason is not None:
            reasons[entry.file] = reason
    assert {EMPTY, NO_HEADERS, NOT_AN_EMAIL} <= set(reasons.values())


def test_damaged_but_parseable_messages_are_worked_around() -> None:
    boundary_broken = date_broken = address_broken = 0
    for _entry, message in emails():
        if message.is_multipart() is False and message.get_content_maintype() == "multipart":
            boundary_broken += 1
        if message["Date"] is not None:
            try:
                parsedate_to_datetime(str(message["Date"]))
            except (TypeError, ValueError):
                date_broken += 1
        senders = getaddresses([str(message["From"] or "")])
        if not any("@" in address for _name, address in senders):
            address_broken += 1
    assert boundary_broken >= 1
    assert date_broken >= 1
    assert address_broken >= 1


def test_the_engine_parses_every_email_and_quarantines_exactly_the_expected_files() -> None:
    for entry in entries():
        result = parse_message(raw(entry.file))
        expected = Quarantined if entry.expected == QUARANTINE else ParsedEmail
        assert isinstance(result, expected), entry.file
        if isinstance(result, ParsedEmail):
            assert result.subject, entry.file
            assert result.body_text.strip(), entry.file


# --- packaging ------------------------------------------------------------------------------


def test_the_mailbox_lives_in_the_package_and_package_data_ships_every_file() -> None:
    folder = demo_mailbox_dir()
    assert folder == Path(demo_package.__file__).parent / "mailbox"
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    find = config["packages"]["find"]
    assert find.get("namespaces", True), "mailbox/ has no __init__.py; it is found as a namespace package"
    assert any(fnmatch.fnmatch("connectors.demo.mailbox", pattern) for pattern in find["include"])
    patterns = [
        *config["package-data"].get("*", []),
        *config["package-data"].get("connectors.demo.mailbox", []),
    ]
    for path in folder.iterdir():
        assert any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns), path.name
    assert not (folder / "__init__.py").exists()


def test_the_mailbox_can_be_materialised_from_a_zip_archive(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in demo_mailbox_dir().iterdir():
            bundle.write(path, f"connectors/demo/mailbox/{path.name}")
    target = tmp_path / "out"
    target.mkdir()
    copied = demo_package._copy_files(zipfile.Path(archive, "connectors/demo/mailbox/"), target)
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in demo_mailbox_dir().iterdir())
    for path in copied.iterdir():
        assert path.read_bytes() == (demo_mailbox_dir() / path.name).read_bytes()
