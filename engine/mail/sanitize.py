"""Sanitising an email's HTML for the desktop's optional HTML view.

Only a small set of formatting tags survives, with no attributes except ``colspan``/``rowspan``
(whole numbers). Links keep their text but lose ``href``: the address is shown after the text in
brackets, so the view can never follow it. Images become ``[image: alt text]``; scripts, styles,
frames, objects and forms disappear with their content; comments and declarations are dropped;
all text is escaped. Nothing in the output can load remote content.
"""

from __future__ import annotations

import re
from html import escape, unescape
from html.parser import HTMLParser

from engine.mail.html_defuse import defuse_html

ALLOWED_TAGS = frozenset(
    {"p", "br", "div", "span", "b", "strong", "i", "em", "u", "ul", "ol", "li", "table", "tr", "td",
     "th", "thead", "tbody", "blockquote", "pre", "code", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "a"}
)
ALLOWED_ATTRIBUTES = frozenset({"colspan", "rowspan"})
_VOID = frozenset({"br", "hr"})
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "form", "head", "title", "template", "noscript", "svg",
     "math", "applet", "frame", "frameset", "noframes", "audio", "video", "canvas", "select",
     "textarea", "button", "xml"}
)
_SHOWN_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")
_MAX_SPAN = 1000
_DECLARATION = re.compile(r"<!(?!--)[^<>]*>?")
_TAG = re.compile(r"<[^>]*>?")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^\s*([0-9]{1,4})\s*$")


class _Sanitiser(HTMLParser):
    """Re-emits the allowed subset of the HTML it is fed, balanced and escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._open: list[str] = []
        self._dropping: list[str] = []
        self._links: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep an allowed tag (without its attributes), note a link, replace an image."""
        if tag == "body" and self._dropping == ["head"]:
            self._dropping.clear()  # an unclosed <head> ends where the body starts
        if tag in _DROP_WITH_CONTENT:
            self._dropping.append(tag)
        if self._dropping:
            return
        if tag == "img":
            alt = _SPACE.sub(" ", dict(attrs).get("alt") or "").strip()
            self._text(f"[image: {alt}]" if alt else "[image]")
            return
        if tag not in ALLOWED_TAGS:
            return
        kept = "".join(
            f' {name}="{span}"'
            for name, value in attrs
            if name in ALLOWED_ATTRIBUTES and (span := _span(value)) is not None
        )
        self.out.append(f"<{tag}{kept}>")
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", []))
        if tag not in _VOID:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close an open allowed tag (and any opened inside it); end a dropped element."""
        if tag in _DROP_WITH_CONTENT:
            if tag in self._dropping:
                del self._dropping[len(self._dropping) - 1 - self._dropping[::-1].index(tag) :]
            return
        if self._dropping or tag not in self._open:
            return
        while self._open:
            current = self._open.pop()
            self.out.append(f"</{current}>")
            if current == "a":
                self._after_link()
            if current == tag:
                break

    def handle_data(self, data: str) -> None:
        """Escape and keep text outside dropped elements."""
        if not self._dropping:
            self._text(data)

    def finish(self) -> str:
        """Close whatever is still open and return the sanitised HTML."""
        self._dropping.clear()
        while self._open:
            self.handle_endtag(self._open[-1])
        return "".join(self.out)

    def _text(self, text: str) -> None:
        """Append escaped text (and remember it as the text of any open link)."""
        self.out.append(escape(text))
        for _, parts in self._links:
            parts.append(text)

    def _after_link(self) -> None:
        """Show a link's address after its text, unless the text already is the address."""
        href, parts = self._links.pop()
        url = _SPACE.sub("", href)
        if not url.lower().startswith(_SHOWN_SCHEMES):
            return
        shown = _SPACE.sub(" ", "".join(parts)).strip()
        bare = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
        if shown.rstrip("/") not in (url.rstrip("/"), bare):
            self._text(f" ({bare})")


def _span(value: str | None) -> int | None:
    """A ``colspan``/``rowspan`` value as a whole number from 1 to 1000, else ``None``."""
    match = _NUMBER.match(value or "")
    if not match or not 0 < int(match.group(1)) <= _MAX_SPAN:
        return None
    return int(match.group(1))


def sanitize_html(html: str) -> str:
    """Return a safe, self-contained HTML fragment for ``html``. Never raises on content."""
    html = defuse_html(html)
    for source in (html, _DECLARATION.sub("", html)):
        sanitiser = _Sanitiser()
        try:
            sanitiser.feed(source)
            sanitiser.close()
        except AssertionError:
            continue  # html.parser gives up on some malformed <!...> declarations
        return sanitiser.finish()
    return f"<pre>{escape(unescape(_TAG.sub(' ', html)))}</pre>"
