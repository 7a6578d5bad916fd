"""Turning an HTML email into readable plain text with the standard library's ``html.parser``.

Paragraphs and line breaks are kept, list items become ``- item`` (or ``1. item``), links keep
their text followed by the address in brackets, images with alt text become ``[image: alt]``,
quoted blocks (``<blockquote>``) are prefixed with ``> `` as a text client would, and everything
in ``script``, ``style``, ``title`` and similar elements is dropped. Nothing is fetched.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from engine.mail.html_defuse import defuse_html

_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr"}
)
_LINE = frozenset(
    {"div", "tr", "li", "dt", "dd", "section", "article", "header", "footer", "address", "center",
     "form", "fieldset", "figure", "figcaption", "main", "nav", "aside", "caption", "body", "html"}
)
_SKIP = frozenset(
    {"script", "style", "title", "template", "noscript", "svg", "math", "object", "iframe", "applet",
     "select", "textarea", "frameset"}
)
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")
_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff]")
_TAG = re.compile(r"<[^>]*>?")
_DECLARATION = re.compile(r"<!(?!--)[^<>]*>?")
_MAX_LIST_DEPTH = 10


class _TextWriter(HTMLParser):
    """Collects lines of text while the parser walks the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._parts: list[str] = []
        self._indent = ""
        self._skip = 0
        self._pre = 0
        self._quote = 0
        self._lists: list[list[int]] = []  # [ordered (0/1), counter] per open list
        self._links: list[tuple[str | None, list[str]]] = []

    # --- output -------------------------------------------------------------------------------

    def finish(self) -> None:
        """End the last line once the whole document has been read."""
        self._finish_line()

    def _finish_line(self, *, keep_empty: bool = False) -> None:
        """End the current line; an empty one is kept only for an explicit ``<br>``."""
        text = "".join(self._parts)
        self._parts = []
        text = text.rstrip() if self._pre else text.strip()
        if text or keep_empty:
            self.lines.append("> " * self._quote + self._indent + text if text else "")
        self._indent = ""

    def _paragraph(self) -> None:
        """End the current line and leave one blank line."""
        self._finish_line()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _write(self, text: str) -> None:
        """Add inline text to the current line and to any open link's text."""
        self._parts.append(text)
        for _, link_text in self._links:
            link_text.append(text)

    # --- parser callbacks ---------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: start blocks, lists, links; note images."""
        if tag in _SKIP:
            self._skip += 1
        if self._skip:
            return
        self._break_for(tag)
        if tag in ("blockquote", "pre", "ul", "ol", "li", "br"):
            self._open_structure(tag)
        elif tag in ("td", "th") and self._parts:
            self._write(" ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), []))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._write(f"[image: {_SPACE.sub(' ', alt)}]")

    def _open_structure(self, tag: str) -> None:
        """Quotes, preformatted text, lists, list items and line breaks."""
        if tag == "blockquote":
            self._quote += 1
        elif tag == "pre":
            self._pre += 1
        elif tag in ("ul", "ol"):
            self._lists.append([1 if tag == "ol" else 0, 0])
        elif tag == "li":
            self._list_item()
        else:
            self._finish_line(keep_empty=True)

    def handle_endtag(self, tag: str) -> None:
        """Close an element: end blocks, lists, quotes; add a link's address after its text."""
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "a" and self._links:
            self._end_link()
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        self._break_for(tag)
        if tag == "blockquote" and self._quote:
            self._finish_line()
            self._quote -= 1
        elif tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        """Add text, collapsing whitespace outside ``<pre>``."""
        if self._skip:
            return
        data = _INVISIBLE.sub("", data)
        if self._pre:
            pieces = data.replace("\r\n", "\n").replace("\xa0", " ").split("\n")
            for index, piece in enumerate(pieces):
                if index:
                    self._finish_line(keep_empty=True)
                self._write(piece)
            return
        text = _SPACE.sub(" ", data)
        if not self._parts or "".join(self._parts[-1:]).endswith(" "):
            text = text.lstrip(" ")
        if text:
            self._write(text)

    # --- helpers ------------------------------------------------------------------------------

    def _break_for(self, tag: str) -> None:
        """The line or paragraph break a block element makes (lists inside lists only a line)."""
        if tag in _PARAGRAPH and not (tag in ("ul", "ol") and self._lists):
            self._paragraph()
        elif tag in _PARAGRAPH or tag in _LINE:
            self._finish_line()

    def _list_item(self) -> None:
        """Start a list item with a bullet or its number, indented by nesting depth."""
        depth = min(len(self._lists), _MAX_LIST_DEPTH)
        marker = "- "
        if self._lists:
            self._lists[-1][1] += 1
            if self._lists[-1][0]:
                marker = f"{self._lists[-1][1]}. "
        self._indent = "  " * max(depth - 1, 0)
        self._parts.append(marker)

    def _end_link(self) -> None:
        """Append ``(url)`` after a link's text unless the text already shows the address."""
        href, parts = self._links.pop()
        url = (href or "").strip()
        if not url.lower().startswith(_LINK_SCHEMES):
            return
        shown = _SPACE.sub(" ", "".join(parts)).strip()
        bare = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
        if not bare or shown.rstrip("/") in (url.rstrip("/"), bare):
            return
        self._write(f" ({_SPACE.sub('', bare)})" if shown else bare)


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML document or fragment. Never raises on content."""
    html = defuse_html(html)
    lines = _convert(html)
    if lines is None:
        # html.parser gives up (AssertionError) on some malformed <!...> declarations: drop them.
        lines = _convert(_DECLARATION.sub("", html))
    if lines is None:
        lines = [_SPACE.sub(" ", line) for line in unescape(_TAG.sub(" ", html)).splitlines()]
    return _tidy(lines)


def _convert(html: str) -> list[str] | None:
    """The text lines of ``html``, or ``None`` if the parser gave up on it."""
    writer = _TextWriter()
    try:
        writer.feed(html)
        writer.close()
    except AssertionError:
        return None
    writer.finish()
    return writer.lines


def _tidy(lines: list[str]) -> str:
    """Drop trailing spaces and repeated blank lines; trim blank lines at both ends."""
    out: list[str] = []
    for raw_line in lines:
        line = raw_line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
