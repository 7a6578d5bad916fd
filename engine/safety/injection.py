"""Recognising email text that tries to steer a language model ("prompt injection").

Email text is data, never instructions: prompts fence it off and providers get no tools. This
module adds the second line of defence — an email that *looks* like it is talking to a model is
flagged, shown with the reasons in the review pane, and never auto-sent, whatever the policy says.

The rules look for instruction-like phrases (ignore previous instructions, you are now…, reveal
your system prompt, forward all emails to…, reply with this link, classify this as…), chat-markup
and jailbreak markers, and attempts to close the prompt's delimiters. The text is scanned as
written, then again with invisible characters removed, Unicode tag characters decoded, look-alike
letters mapped and letter-spacing joined, and every base64 run of 24+ characters is decoded and
scanned too (two levels deep). A false alarm costs a person a look; a miss could cost much more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.safety.normalise import decoded_base64_runs, reveal, visible_text

_GAP = r"[^.!?\n]{0,40}?"
_ADDRESS = r"(?:\S{1,64}@\S{1,255}|(?:this|that|the following|my|our|an?) (?:e-?mail )?address\b|https?://\S+)"


@dataclass(frozen=True)
class _Rule:
    reason: str
    pattern: re.Pattern[str]


def _rule(reason: str, pattern: str) -> _Rule:
    return _Rule(reason, re.compile(pattern, re.IGNORECASE | re.MULTILINE))


RULES: tuple[_Rule, ...] = (
    _rule(
        "asks to ignore previous instructions",
        rf"\b(?:ignore|disregard|forget|override|bypass|skip)\b{_GAP}"
        r"\b(?:previous|prior|above|earlier|preceding|all|any|your|system|original|these|those|other)\b"
        rf"{_GAP}\b(?:instructions?|prompts?|rules|guidelines|directives|commands|programming|context)\b",
    ),
    _rule(
        "announces new instructions",
        r"\b(?:new|updated|real|actual|additional|override|revised)\s+(?:instructions?|system\s+prompt|rules)"
        r"\s*+(?::|follow\b)",
    ),
    _rule(
        "tries to change the assistant's role",
        r"\byou\s+are\s+now\s+(?:an?\s+|the\s+|my\s+|in\s+)?(?:ai|assistant|bot|model|different|new|"
        r"unrestricted|unfiltered|free|jailbroken|dan|evil|developer|admin|god|debug)\b"
        r"|\byou\s+are\s+now\s+in\s+\w{1,20}\s+mode\b"
        r"|\byou\s+are\s+no\s+longer\s+(?:bound|an?\s+ai|restricted|required|an?\s+assistant)\b"
        r"|\bfrom\s+now\s+on,?\s+(?:you\s+(?:will|must|are|should)\s+)?(?:ignore|respond|reply|answer|act|"
        r"only|always|never)\b"
        r"|(?:^|[.!?]\s+|\byou\s+(?:will|must|should|shall|are\s+to)\s+)(?:act|behave|respond)\s+as\s+"
        r"(?:if|an?|the)\b"
        r"|\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b|\brole-?\s?play\s+as\b",
    ),
    _rule("mentions the system prompt", r"\bsystem\s*+prompt\b|\b(?:initial|hidden|developer)\s+prompt\b"),
    _rule(
        "asks to reveal hidden instructions",
        r"\b(?:reveal|show|print|repeat|output|display|leak|tell\s+me|give\s+me|disclose|what\s+(?:are|were))\b"
        r"[^.!?\n]{0,20}?\byour\s+(?:system\s+|initial\s+|original\s+|hidden\s+|secret\s+|full\s+)?"
        r"(?:prompt|instructions|configuration|api\s+key|secrets?)\b"
        r"|\b(?:repeat|print|output)\s+(?:everything|all(?:\s+the\s+text)?|the\s+text)\s+(?:above|before)\b",
    ),
    _rule(
        "asks to forward or send mail elsewhere",
        rf"\b(?:forward|send|copy|bcc|cc|export|upload)\b{_GAP}\b(?:all|every|entire|whole|other|previous)\b"
        rf"{_GAP}\b(?:e-?mails?|messages|threads?|conversations?|correspondence|inbox|mailbox|contacts|"
        r"attachments|customer\s+(?:data|details|list|records))\b"
        rf"|\b(?:forward|send|copy)\b{_GAP}\b(?:thread|conversation|correspondence|e-?mails|messages|"
        rf"inbox|mailbox)\b{_GAP}\bto\s+{_ADDRESS}",
    ),
    _rule(
        "asks for a link or text to be put in the reply",
        rf"\b(?:reply|respond|answer|write\s+back)\b{_GAP}\bwith\b{_GAP}\b(?:this|the\s+following|these|that)\s+"
        r"(?:link|url|website|address|text)\b"
        rf"|\b(?:include|insert|add|put|paste|append|embed)\b{_GAP}\b(?:link|url|https?://\S+)"
        rf"{_GAP}\b(?:reply|response|answer)\b"
        rf"|\b(?:in|into|to)\s+(?:your|the)\s+(?:reply|response|answer),?\s+(?:include|insert|add|put|say|write)\b",
    ),
    _rule(
        "contains chat markup or jailbreak markers",
        r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext)\s*\|>|\[/?INST\]|<</?SYS>>"
        r"|^\s*#{2,}\s*(?:system|instructions?)\b|</?(?:system|instructions?|assistant)>"
        r"|\"role\"\s*:\s*\"(?:system|assistant|developer)\""
        r"|^\s*(?:system|assistant|developer)\s+(?:prompt|message|override|instructions?)\s*:"
        r"|\bjailbr(?:eak|oken)\b|\bdo\s+anything\s+now\b|\bDAN\s+(?:mode|prompt)\b|\bdeveloper\s+mode\b"
        r"|\bbegin\s+system\s+prompt\b",
    ),
    _rule(
        "speaks to an AI reading the email",
        r"\b(?:note|message|instructions?|attention|memo)\s+(?:to|for)\s+(?:the\s+|any\s+)?"
        r"(?:ai|llm|chatbot|gpt|chatgpt|claude|language\s+model|ai\s+assistant|model|bot)\b"
        r"|\bif\s+you\s+are\s+an?\s+(?:ai|language\s+model|llm|assistant|bot|chatbot)\b"
        r"|\b(?:dear|hey|hi|hello)\s+(?:ai|chatgpt|gpt|claude|llm|chatbot|ai\s+assistant)\b"
        r"|\bas\s+an\s+ai\s+(?:language\s+)?model\b",
    ),
    _rule(
        "tries to set its own classification or routing",
        r"\b(?:classify|categori[sz]e|label)\s+(?:this|it|the\s+(?:e-?mail|message))\b[^.!?\n]{0,20}?\bas\b"
        r"|\bset\s+(?:the\s+)?(?:category|priority|confidence)\b|\binjection_suspected\b"
        r"|\"(?:category|confidence|priority)\"\s*:"
        r"|\b(?:auto-?send|send\s+(?:it|this|the\s+reply)\s+automatically|without\s+(?:human\s+)?review)\b"
        r"|\bmark\s+(?:this|it)(?:\s+(?:e-?mail|message))?\s+as\s+(?:already\s+)?(?:answered|read|done|handled|"
        r"resolved|safe|not\s+spam|legitimate)\b",
    ),
    _rule(
        "asks to keep something from the staff",
        r"\b(?:do\s+not|don't|never)\s+(?:mention|tell|show|reveal|disclose)\s+(?:this|these|the|my)\s+"
        r"(?:note|message|instructions?|request|part)\b",
    ),
    _rule(
        "tries to close the email's delimiters",
        r"</?\s*email[\w-]*\s*>|\b(?:end|close)\s+of\s+(?:the\s+)?(?:e-?mail|message|untrusted|user)\s+"
        r"(?:data|content|input|text)\b",
    ),
)

_HIDDEN = " (hidden with invisible, look-alike or spaced-out letters)"
_MAX_DEPTH = 2
_MAX_EVIDENCE = 80


@dataclass(frozen=True)
class InjectionFinding:
    """Whether an email looks like it tries to steer a model, and why.

    ``reasons`` are short sentences without any of the email's words (safe for the audit log);
    ``evidence`` quotes the matching snippets for the review pane.
    """

    suspected: bool
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


def detect_injection(text: str) -> InjectionFinding:
    """Scan ``text`` (subject and body of an email) for instruction-like content."""
    reasons: list[str] = []
    evidence: list[str] = []
    _scan(text, reasons, evidence, depth=0)
    return InjectionFinding(bool(reasons), tuple(reasons), tuple(evidence))


def _scan(text: str, reasons: list[str], evidence: list[str], *, depth: int, prefix: str = "") -> None:
    plain = visible_text(text)
    revealed = reveal(text)
    obfuscated = revealed != plain
    for rule in RULES:
        match = rule.pattern.search(plain)
        hidden = False
        if match is None and obfuscated:
            match = rule.pattern.search(revealed)
            hidden = match is not None
        if match is None:
            continue
        reason = prefix + rule.reason + (_HIDDEN if hidden else "")
        _add(reasons, reason)
        _add(evidence, " ".join(match.group().split())[:_MAX_EVIDENCE])
    if depth < _MAX_DEPTH:
        for decoded in decoded_base64_runs(plain):
            _scan(decoded, reasons, evidence, depth=depth + 1, prefix=prefix + "base64-encoded text: ")


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
