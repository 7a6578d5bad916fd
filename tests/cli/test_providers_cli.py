"""``inbox-triage providers ...`` end to end against the loopback OpenAI fake, then ``run --once``
on a demo profile classifying and drafting through it — with no personal data in what it received."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.wiring import create_demo_profile
from engine.mail.model import ParsedEmail
from engine.mail.parse import parse_message
from tests.cli.helpers import Cli
from tests.support.memory_keyring import MemoryKeyring
from tests.support_http.openai import OpenAIServer

DEMO_MAILBOX = Path(__file__).resolve().parents[2] / "connectors/demo/mailbox"
KEY = ("inbox-triage", "ai-provider:gpt")


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> Cli:
    """A demo profile (not yet triaged) with a keyring."""
    create_demo_profile(tmp_path / "demo")
    return Cli(tmp_path / "demo", capsys, monkeypatch)


def add_gpt(cli: Cli, server: OpenAIServer, *extra: str, key: str = "sk-test") -> tuple[int, str, str]:
    return cli(
        "providers", "add", "gpt", "--kind", "openai", "--base-url", f"{server.url}/v1",
        "--model", "gpt-4o-mini", "--api-key-stdin", "--rpm", "0", *extra, stdin=key + "\n",
    )  # fmt: skip


def test_add_with_a_key_from_stdin_then_list_and_test(
    cli: Cli, openai_server: OpenAIServer, memory_keyring: MemoryKeyring
) -> None:
    code, out, err = add_gpt(cli, openai_server, "--classify", "--draft", "--timeout", "20")
    assert code == 0, err
    assert "API key stored in the keyring" in out and "classifies (1 of 1), drafts (1 of 1)" in out
    assert memory_keyring.passwords[KEY] == "sk-test"
    code, out, err = cli("providers", "list", "--json")
    assert code == 0 and "sk-test" not in out
    listed = json.loads(out)
    [gpt] = listed["providers"]
    assert gpt["has_api_key"] is True and gpt["redact"] is True and gpt["timeout_s"] == 20.0
    assert (gpt["classify_position"], gpt["draft_position"], gpt["requests_per_minute"]) == (1, 1, None)
    assert gpt["usage_today"]["requests"] == 0 and gpt["host"] == "127.0.0.1"
    assert (listed["classify_chain"], listed["draft_chain"]) == (["gpt"], ["gpt"])

    code, out, err = cli("providers", "test", "gpt")
    assert code == 0, out + err
    assert out.startswith("OK: OpenAI-compatible provider 'gpt' answered with model gpt-4o-mini")
    assert len(openai_server.recorded()) == 1
    [call] = cli.audit("egress.call")
    assert call["destination"] == "127.0.0.1" and call["outcome"] == "2xx"
    assert call["detail"]["purpose"] == "ai:gpt" and call["detail"]["path"] == "/v1/chat/completions"
    assert call["detail"]["method"] == "POST" and call["detail"]["status"] == 200


def test_a_wrong_key_is_a_clear_failure(cli: Cli, openai_server: OpenAIServer) -> None:
    assert add_gpt(cli, openai_server, key="sk-wrong")[0] == 0
    code, out, _ = cli("providers", "test", "gpt")
    assert code == 1
    assert out.startswith("FAILED: OpenAI-compatible provider 'gpt' refused the API key")
    assert "HTTP 401" in out and "Incorrect API key" in out
    code, out, _ = cli("providers", "test", "gpt", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    [call, *_] = cli.audit("egress.call")
    assert call["outcome"] == "4xx" and call["detail"]["status"] == 401


def test_without_a_keyring_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_keyring: object
) -> None:
    cli = Cli(tmp_path / "p", capsys, monkeypatch)
    with OpenAIServer() as server:
        code, out, err = add_gpt(cli, server, "--classify")
    assert code == 1 and out == ""
    assert err.startswith(
        "error: No secure keyring is available on this computer, so the secret was not saved."
    )
    assert cli.json("providers", "list")["providers"] == []


def test_chains_remove_and_usage(cli: Cli, openai_server: OpenAIServer) -> None:
    assert add_gpt(cli, openai_server, "--classify")[0] == 0
    code, _, err = cli(
        "providers",
        "add",
        "claude",
        "--kind",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
        "--no-redact",
        "--draft",
    )
    assert code == 0, err
    code, out, _ = cli("providers", "chain", "classify", "claude", "gpt")
    assert code == 0 and out.strip() == "Classification: claude → gpt → offline fallback"
    code, _, err = cli("providers", "chain", "draft", "nobody")
    assert code == 1 and "there is no provider called 'nobody'" in err
    listed = cli.json("providers", "list")
    assert (listed["classify_chain"], listed["draft_chain"]) == (["claude", "gpt"], ["claude"])
    claude = listed["providers"][1]
    assert (claude["redact"], claude["has_api_key"], claude["base_url"]) == (
        False,
        False,
        "https://api.anthropic.com",
    )
    # --replace changes only what is given; the key can be added later the same way.
    code, _, err = cli("providers", "add", "claude", "--replace", "--timeout", "15", "--redact")
    assert code == 0, err
    claude = cli.json("providers", "list")["providers"][1]
    assert (claude["timeout_s"], claude["redact"], claude["model"]) == (15.0, True, "claude-sonnet-4-5")
    code, out, err = cli("providers", "remove", "claude")
    assert code == 0 and "Removed AI provider 'claude'" in out
    listed = cli.json("providers", "list")
    assert [p["name"] for p in listed["providers"]] == ["gpt"]
    assert (listed["classify_chain"], listed["draft_chain"]) == (["gpt"], [])
    assert cli.json("providers", "usage") == []
    code, _, err = cli("providers", "add", "x", "--model", "m")
    assert code == 1 and "--kind openai|anthropic is needed" in err


# --- the whole path: run --once through the provider ----------------------------------------------


_REFERENCE = re.compile(r"(order|invoice|ref|reference|po|quote|tracking)\W*(no\.?|number|#)?\s*$", re.I)


def demo_personal_data() -> list[str]:
    """What of the demo mailbox's personal data must never reach a provider with redaction on.

    Every email address and UK phone number in the bodies (except a number labelled as an
    order or invoice number, which redaction keeps on purpose), and each sender's address and
    full name — unless that name also appears in *another* email's body, where the app cannot
    know it is a name (``docs/providers.md``: names typed only in the body stay).
    """
    emails = [parse_message(p.read_bytes()) for p in sorted(DEMO_MAILBOX.glob("*.eml"))]
    parsed = [e for e in emails if isinstance(e, ParsedEmail)]
    found: set[str] = set()
    for email in parsed:
        body = email.body_text
        found.update(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", body))
        for match in re.finditer(r"(?<!\d)0\d{3} ?\d{3} ?\d{4}(?!\d)", body):
            if not _REFERENCE.search(body[max(0, match.start() - 30) : match.start()]):
                found.add(match.group())
        if email.sender is None:
            continue
        found.add(email.sender.email)
        name = (email.sender.name or "").strip()
        others = [e.body_text for e in parsed if e is not email]
        if " " in name and not any(name in text for text in others):
            found.add(name)
    return sorted(item for item in found if len(item) > 5)


def test_run_once_classifies_and_drafts_through_the_provider(cli: Cli, openai_server: OpenAIServer) -> None:
    assert add_gpt(cli, openai_server, "--classify", "--draft")[0] == 0
    summary = cli.json("run", "--once")
    assert summary["ingested"]["new_runs"] >= 45
    assert summary["states"].get("failed", 0) == 0

    classified = cli.audit("ai.classify")
    drafted = cli.audit("ai.draft")
    assert len(classified) >= 40 and len(drafted) >= 10
    for event in classified + drafted:
        assert (event["actor"], event["destination"], event["outcome"]) == ("provider:gpt", "127.0.0.1", "ok")
        assert event["detail"]["redacted"] is True
    calls = cli.audit("egress.call")
    assert len(calls) == len(openai_server.recorded()) == len(classified) + len(drafted)
    assert {(c["destination"], c["detail"]["purpose"], c["outcome"]) for c in calls} == {
        ("127.0.0.1", "ai:gpt", "2xx")
    }
    assert cli.audit("egress.refused") == []

    usage = cli.json("providers", "usage")
    assert [u["provider"] for u in usage] == ["gpt"] and usage[0]["requests"] == len(calls)
    assert cli.json("providers", "list")["providers"][0]["usage_today"]["requests"] == len(calls)

    personal = demo_personal_data()
    assert len(personal) > 40
    bodies = [r.body.decode("utf-8") for r in openai_server.recorded()]
    bodies += [json.dumps(json.loads(b), ensure_ascii=False) for b in bodies]
    leaked = sorted({item for item in personal for body in bodies if item in body})
    assert leaked == []
