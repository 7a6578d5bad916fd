"""Making untrusted HTML safe to hand to ``html.parser`` in linear time.

``html.parser`` in Python 3.11 (before the CVE-2025-6069 fixes) rescans to the end of the input
for every ``<`` that does not close and for every unterminated comment, so a crafted 200 KB email
can keep it busy for minutes. :func:`defuse_html` escapes exactly those openings (``<`` with no
``>`` before the next ``<``, and ``<!--`` with no ``-->`` after it) in one linear pass; markup that
closes is left untouched, so well-formed mail converts as before.
"""

from __future__ import annotations


def defuse_html(html: str) -> str:
    """Return ``html`` with every unclosed ``<`` and unterminated ``<!--`` escaped as ``&lt;``."""
    if "<" not in html:
        return html
    last_comment_close = html.rfind("-->")
    out: list[str] = []
    pos = 0
    next_gt = -1
    next_lt = -1
    length = len(html)
    while True:
        start = html.find("<", pos)
        if start < 0:
            out.append(html[pos:])
            return "".join(out)
        out.append(html[pos:start])
        if html.startswith("<!--", start):
            close = html.find("-->", start + 4) if start + 4 <= last_comment_close else -1
            if close < 0:
                out.append("&lt;")
                pos = start + 1
            else:
                out.append(html[start : close + 3])
                pos = close + 3
            continue
        if next_gt <= start:
            found = html.find(">", start + 1)
            next_gt = found if found >= 0 else length
        if next_lt <= start:
            found = html.find("<", start + 1)
            next_lt = found if found >= 0 else length
        if next_gt < next_lt:
            out.append(html[start : next_gt + 1])
            pos = next_gt + 1
        else:
            out.append("&lt;")
            pos = start + 1
