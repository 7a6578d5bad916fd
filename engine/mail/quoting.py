"""Stripping quoted history and signatures from the plain text of an email.

Used by the *minimise* step: only the new part of a message should leave the machine. The rules
are conservative: only quoted lines and whole trailing blocks are removed, forwarded content is
kept (it is the message), and the result is never empty when the input had content.
"""

from __future__ import annotations

import re

# Patterns run on untrusted lines: quantifiers next to each other are bounded or possessive, so
# that no line can make them backtrack for long.
_QUOTED = re.compile(r"^\s*+>")
_ORIGINAL = re.compile(
    r"^\s*+-{2,}+\s*+(original message|original|ursprüngliche nachricht|message d'origine)\s*+-{2,}+\s*+$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*+_{10,}+\s*+$")
_HEADER_LINE = re.compile(r"^\s*+\*?(from|sent|date|to|cc|subject)\s*+:\*?\s*+(.*)$", re.IGNORECASE)
_FORWARD = re.compile(
    r"^\s*+(-{2,}+\s*+forwarded message\s*+-{2,}+|begin forwarded message:?|-{2,}+\s*+forwarded by .*)\s*$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fw|fwd)\s*:", re.IGNORECASE)
_WROTE = re.compile(r"^\s*+\S.{0,300}\b(wrote|writes|a écrit|schrieb)\s*+:\s*+$", re.IGNORECASE | re.DOTALL)
_ON_START = re.compile(r"^\s*(on|le|am)\s", re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(sent from my \w[\w\s-]{0,40}|sent from (outlook|mail|yahoo mail|samsung|proton ?mail)\b.{0,60}"
    r"|get outlook for (ios|android).{0,20}|sent via \w[\w\s]{0,30}|sent from my mobile.{0,30})[.!]?\s*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*(this (e-?mail|message)\b.{0,80}\b(confidential|intended|privileged)|"
    r"(confidentiality|legal) (notice|statement)|disclaimer\b|"
    r"the information (contained )?in this (e-?mail|message)|please consider the environment)",
    re.IGNORECASE,
)
_SIGNOFF_WORDS = (
    r"kind regards|best regards|warm(est)? regards|many thanks|thanks (again|in advance|very much)|"
    r"thank you( very much| again)?|best wishes|with (best )?wishes|with (many )?thanks|all the best|"
    r"yours (sincerely|faithfully|truly)|sincerely|regards|thanks|cheers|best|take care|speak soon|"
    r"rgds|regs|thx|ta|kr"
)
# The sign-off words in any case, optionally followed by a capitalised name ("Thanks, Jane").
# Possessive quantifiers: this runs on untrusted lines and must not backtrack over long blanks.
_SIGNOFF = re.compile(
    rf"^\s*+(?i:{_SIGNOFF_WORDS})\b\s*+[,.!]*+\s*+(?:-\s*+)?"
    r"(?:[A-Z][\w'.-]*+(?:\s++[A-Z][\w'.-]*+){0,2})?\s*+$"
)
_MAX_SIGNATURE_LINES = 20
_MAX_SIGNOFF_LINES = 8
_MAX_DISCLAIMER_LINES = 25
_MAX_SHORT_LINE = 72
_MAX_SHORT_WORDS = 10


def strip_quoted_and_signature(text: str) -> str:
    """Return the new content of an email body: quoted history and trailing signature removed.

    Never returns an empty string when ``text`` has non-blank content: if stripping would leave
    nothing, the signature is kept, and failing that the text is returned unchanged (trimmed).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forward_at = next((i for i, line in enumerate(lines) if _is_forward(lines, i)), None)
    own = lines if forward_at is None else lines[:forward_at]
    forwarded = [] if forward_at is None else lines[forward_at:]
    cut = _history_start(own)
    unquoted = _drop_quoted(own[:cut] if cut is not None else own)
    candidates = [unquoted + forwarded]
    if forward_at is None:
        candidates.insert(0, _strip_signature(unquoted))
    for candidate in (*candidates, lines):
        result = _tidy(candidate)
        if result:
            return result
    return ""


def _is_forward(lines: list[str], index: int) -> bool:
    """Whether a forwarded message starts at ``lines[index]`` (marker, or a header block with Fw:)."""
    if _FORWARD.match(lines[index]):
        return True
    if not _is_header_block(lines, index):
        return False
    for line in lines[index : index + 7]:
        match = _HEADER_LINE.match(line)
        if match and match.group(1).lower() == "subject":
            return bool(_FORWARD_SUBJECT.match(match.group(2)))
    return False


def _history_start(lines: list[str]) -> int | None:
    """Where a top-posted reply's quoted history starts (Outlook markers and header blocks)."""
    for index, line in enumerate(lines):
        if _ORIGINAL.match(line):
            return index
        if _UNDERSCORES.match(line) and any(_is_header_block(lines, j) for j in (index + 1, index + 2)):
            return index
        if _is_header_block(lines, index):
            return index
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` starts a "From: / Sent: / To: / Subject:" block of a quoted email."""
    if index >= len(lines):
        return False
    first = _HEADER_LINE.match(lines[index])
    if not first or first.group(1).lower() != "from" or not first.group(2).strip():
        return False
    names = set()
    for line in lines[index + 1 : index + 7]:
        match = _HEADER_LINE.match(line)
        if match:
            names.add(match.group(1).lower())
    return bool(names & {"sent", "subject"}) and len(names & {"sent", "date", "to", "subject", "cc"}) >= 2


def _drop_quoted(lines: list[str]) -> list[str]:
    """Remove ``>``-quoted lines and the "On ..., ... wrote:" lines introducing them."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        span = _attribution_span(lines, index)
        if span and _quote_follows(lines, index + span):
            index += span
            continue
        if not _QUOTED.match(lines[index]):
            out.append(lines[index])
        index += 1
    return out


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) an attribution starting at ``index`` spans, or 0 if none does."""
    if _WROTE.match(lines[index]):
        return 1
    if index + 1 < len(lines) and _ON_START.match(lines[index]):
        joined = f"{lines[index].rstrip()} {lines[index + 1].strip()}"
        if _WROTE.match(joined):
            return 2
    return 0


def _quote_follows(lines: list[str], index: int) -> bool:
    """Whether the next non-blank line from ``index`` is quoted (or the text ends)."""
    for line in lines[index:]:
        if line.strip():
            return bool(_QUOTED.match(line))
    return True


def _strip_signature(lines: list[str]) -> list[str]:
    """Remove a trailing signature: "-- " block, mobile footer, disclaimer, then a sign-off block."""
    lines = _trim(lines)
    for index, line in enumerate(lines):
        if _SIG_DELIMITER.match(line) and _count_content(lines[index + 1 :]) <= _MAX_SIGNATURE_LINES:
            lines = _trim(lines[:index])
            break
    while lines and _MOBILE.match(lines[-1]):
        lines = _trim(lines[:-1])
    for index, line in enumerate(lines):
        if _DISCLAIMER.match(line) and _count_content(lines[index:]) <= _MAX_DISCLAIMER_LINES:
            lines = _trim(lines[:index])
            break
    for index in range(len(lines) - 1, max(-1, len(lines) - _MAX_SIGNOFF_LINES - 2), -1):
        if _SIGNOFF.match(lines[index]) and _is_contact_block(lines[index + 1 :]):
            return _trim(lines[:index])
    return lines


def _is_contact_block(lines: list[str]) -> bool:
    """Whether the lines after a sign-off look like a name and short contact details."""
    content = [line.strip() for line in lines if line.strip()]
    if len(content) > _MAX_SIGNOFF_LINES:
        return False
    return all(
        len(line) <= _MAX_SHORT_LINE and len(line.split()) <= _MAX_SHORT_WORDS and not line.endswith("?")
        for line in content
    )


def _count_content(lines: list[str]) -> int:
    """The number of non-blank lines."""
    return sum(1 for line in lines if line.strip())


def _trim(lines: list[str]) -> list[str]:
    """``lines`` without trailing blank lines."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _tidy(lines: list[str]) -> str:
    """Join lines, trimming trailing spaces and collapsing runs of blank lines."""
    out: list[str] = []
    for line in lines:
        stripped = line.rstrip()
        if stripped or (out and out[-1]):
            out.append(stripped)
    return "\n".join(out).strip()
