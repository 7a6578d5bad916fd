"""Walking a parsed MIME tree: choosing the readable body and listing the attachments.

Every access to a part goes through :func:`engine.mail.guard.guarded`, and the walk is iterative
with limits on depth and part count, so a hostile structure cannot crash or exhaust the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser

from engine.mail.charset import decode_bytes
from engine.mail.encoded_words import clean_text, tolerant_header
from engine.mail.guard import guarded
from engine.mail.model import Attachment

MAX_DEPTH = 40
MAX_PARTS = 1000
MAX_FILENAME = 255
MAX_RECOVERIES = 3
_BOUNDARY_LINE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-][0-9A-Za-z'()+_,./:=? -]{0,69}?)(?:--)?[ \t]*$")
_HEADER_FIELD = re.compile(r"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_TYPE_IN_TEXT = re.compile(r"^\s*([A-Za-z0-9!#$&^_.+-]+)\s*/\s*([A-Za-z0-9!#$&^_.+-]+)")
_CHARSET_IN_TEXT = re.compile(r"charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)
_NAME_IN_TEXT = re.compile(r"(?:file)?name\*?\s*=\s*\"?([^\";]+)", re.IGNORECASE)
_PATH = re.compile(r"^.*[/\\]")


@dataclass
class Body:
    """What the walk found: the first plain-text and HTML bodies, the attachments and any defects."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def extract_body(message: Message) -> Body:
    """Walk ``message`` depth-first and collect its body texts and attachment list."""
    body = Body()
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    recoveries = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            body.defects.append(f"more than {MAX_PARTS} MIME parts; the rest were not read")
            break
        content_type = content_type_of(part)
        _note_parser_defects(body, part)
        if part.is_multipart() and not content_type.startswith("message/"):
            if depth >= MAX_DEPTH:
                body.defects.append(f"MIME parts nested deeper than {MAX_DEPTH} levels were not read")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        if content_type.startswith("multipart/") and recoveries < MAX_RECOVERIES:
            recovered = _recover_multipart(part)
            if recovered is not None:
                recoveries += 1
                body.defects.append(
                    f"{content_type} boundary did not match the body; parts found by their own boundary lines"
                )
                stack.append((recovered, depth + 1))
                continue
        _take_leaf(body, part, content_type, is_root=part is message)
    return body


def _recover_multipart(part: Message) -> Message | None:
    """Re-read a multipart whose declared boundary is missing or wrong, using the boundary lines
    actually present in its body (the most frequent ``--token`` line followed by a header line).

    Returns ``None`` when the body holds no such lines.
    """
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    counts: dict[str, int] = {}
    lines = payload.splitlines()
    for index, line in enumerate(lines[:-1]):
        match = _BOUNDARY_LINE.match(line)
        if match and _HEADER_FIELD.match(lines[index + 1]):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    if not counts:
        return None
    boundary = max(counts, key=lambda token: counts[token])
    source = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode() + payload.encode(
        "utf-8", "surrogateescape"
    )
    parsed, _ = guarded(lambda: BytesParser(policy=email_policy.compat32).parsebytes(source))
    if parsed is None or not parsed.is_multipart():
        return None
    return parsed


def content_type_of(part: Message) -> str:
    """The part's lower-case ``type/subtype`` (``text/plain`` when missing or unreadable)."""
    value, _ = guarded(part.get_content_type)
    if isinstance(value, str) and "/" in value:
        return value
    raw = _raw_param_source(part, "content-type")
    match = _TYPE_IN_TEXT.match(raw)
    return f"{match.group(1)}/{match.group(2)}".lower() if match else "text/plain"


def _take_leaf(body: Body, part: Message, content_type: str, *, is_root: bool) -> None:
    """File one leaf part as the text body, the HTML body or an attachment."""
    disposition, _ = guarded(part.get_content_disposition)
    filename = _filename(part)
    is_body_candidate = (
        content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename
    )
    if is_body_candidate:
        if content_type == "text/plain" and body.text is None:
            body.text = _text_of(part, body.defects)
        elif content_type == "text/html" and body.html is None:
            body.html = _text_of(part, body.defects)
        return
    if is_root and content_type.startswith("multipart/"):
        body.defects.append(f"{content_type} message without usable boundary; body read as text")
        body.text = _text_of(part, body.defects)
        return
    if content_type.startswith("message/"):
        body.attachments.append(_message_attachment(part, content_type, filename, body.defects))
        return
    data = _payload_bytes(part, body.defects)
    body.attachments.append(Attachment(filename, content_type, len(data)))


def _text_of(part: Message, defects: list[str]) -> str:
    """The decoded text of a leaf part, with line endings normalised and NULs dropped."""
    data = _payload_bytes(part, defects)
    charset, _ = guarded(part.get_content_charset)
    if not isinstance(charset, str) or not charset:
        match = _CHARSET_IN_TEXT.search(_raw_param_source(part, "content-type"))
        charset = match.group(1) if match else None
    decoded = decode_bytes(data, charset)
    if decoded.defect:
        defects.append(f"body: {decoded.defect}")
    return decoded.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    """The transfer-decoded payload of a leaf part (empty when unreadable)."""
    data, error = guarded(lambda: part.get_payload(decode=True))
    if isinstance(data, bytes):
        return data
    raw, raw_error = guarded(lambda: part.get_payload(decode=False))
    if error or raw_error:
        defects.append(f"part payload could not be decoded ({error or raw_error})")
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _filename(part: Message) -> str:
    """The attachment's file name (RFC 2231 / RFC 2047 decoded), without any directory part."""
    value, _ = guarded(part.get_filename)
    if not isinstance(value, str):
        value = None
        for header in ("content-disposition", "content-type"):
            match = _NAME_IN_TEXT.search(_raw_param_source(part, header))
            if match:
                value = match.group(1)
                break
    if not value:
        return ""
    text, _ = tolerant_header(value)
    return clean_text(_PATH.sub("", text))[:MAX_FILENAME]


def _message_attachment(part: Message, content_type: str, filename: str, defects: list[str]) -> Attachment:
    """An attached message (``message/rfc822`` and friends), sized by its serialised bytes."""
    inner = part.get_payload()
    size = 0
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        message = inner[0]
        data, error = guarded(lambda: message.as_bytes(policy=email_policy.compat32))
        if isinstance(data, bytes):
            size = len(data)
        else:
            defects.append(f"attached message could not be measured ({error})")
        if not filename and content_type == "message/rfc822":
            subject = tolerant_header(_raw_param_source(message, "subject"))[0]
            filename = f"{_PATH.sub('', subject)[:MAX_FILENAME - 4] or 'message'}.eml"
    else:
        size = len(_payload_bytes(part, defects))
    return Attachment(filename[:MAX_FILENAME], content_type, size)


def _note_parser_defects(body: Body, part: Message) -> None:
    """Copy the standard parser's own defect notes for ``part`` (once each)."""
    for defect in getattr(part, "defects", ()):
        note = f"MIME: {type(defect).__name__}" + (f" ({defect})" if str(defect) else "")
        if note not in body.defects:
            body.defects.append(note)


def _raw_param_source(part: Message, header: str) -> str:
    """The raw text of a header of ``part`` for pattern fallbacks ('' when absent)."""
    for name, value in part.raw_items():
        if name.lower() == header:
            return str(value)
    return ""
