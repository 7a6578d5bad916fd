"""sanitize_html: only harmless formatting survives; nothing can load remote content."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mail.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_html


class _Inventory(HTMLParser):
    """Everything markup-like in a document: tags with attributes, comments, declarations."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.end_tags: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.end_tags.append(tag)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"comment {data}")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"decl {decl}")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"pi {data}")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"unknown {data}")


def inventory(html: str) -> _Inventory:
    parser = _Inventory()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe(output: str) -> None:
    """Only allowed tags, only numeric span attributes, balanced, no comments or declarations."""
    found = inventory(output)
    assert found.other == []
    for tag, attrs in found.tags:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES
            assert value is not None
            assert value.isdigit()
    opened = [tag for tag, _ in found.tags if tag not in ("br", "hr")]
    assert sorted(opened) == sorted(found.end_tags)


MARKETING = """<!DOCTYPE html><html><head><meta charset="utf-8"><base href="https://evil.example/">
<link rel=stylesheet href="https://evil.example/a.css"><style>body{background:url(https://t.example/b.png)}</style>
<title>Offers</title></head><body onload="track()" background="https://t.example/bg.png">
<!-- tracking comment --><table width=600 style="background-image:url(https://t.example/x.png)">
<tr><td colspan="2" rowspan="x" onclick="steal()"><img src="https://t.example/pixel.gif" width=1 height=1>
<h1 style="color:red">Summer <em>sale</em></h1><p class=x>Save <b>20%</b> &amp; more</p>
<a href="https://shop.example/sale" target=_blank>Shop now</a> <a href="javascript:alert(1)">here</a>
<img src="cid:logo" alt="Shop &amp; Co logo"></td></tr></table>
<script>document.write('<img src=x>')</script><iframe src="https://evil.example/frame">frame text</iframe>
<object data="x.swf"><param name=a value=b>object text</object><embed src="x.swf">
<form action="https://evil.example/login"><input name=password><button>Log in</button>form text</form>
<video src="https://t.example/v.mp4" poster="https://t.example/p.png">video text</video>
<svg onload="x()"><image href="https://t.example/s.png"/></svg><p>end</p></body></html>"""


def test_marketing_email() -> None:
    output = sanitize_html(MARKETING)
    assert_safe(output)
    for forbidden in ("http", "url(", "track", "steal", "alert", "frame text", "object text", "form text",
                      "video text", "<img", "style", "Offers", "tracking comment"):
        assert forbidden not in output.replace("(https://shop.example/sale)", ""), forbidden
    assert "<h1>Summer <em>sale</em></h1>" in output
    assert "<p>Save <b>20%</b> &amp; more</p>" in output
    assert '<td colspan="2">' in output
    assert "<a>Shop now</a> (https://shop.example/sale)" in output
    assert "<a>here</a>" in output
    assert "[image]" in output
    assert "[image: Shop &amp; Co logo]" in output
    assert output.rstrip().endswith("<p>end</p>")


def test_text_is_escaped() -> None:
    assert sanitize_html("1 &lt; 2 &amp; <b>3 &gt; 2</b> &quot;q&quot;") == (
        "1 &lt; 2 &amp; <b>3 &gt; 2</b> &quot;q&quot;"
    )


def test_unclosed_and_misnested_tags_are_balanced() -> None:
    assert sanitize_html("<div><b>bold<i>both</b>after") == "<div><b>bold<i>both</i></b>after</div>"
    assert sanitize_html("</p>stray end<p>open") == "stray end<p>open</p>"


def test_unclosed_head_ends_at_body() -> None:
    assert sanitize_html("<head><title>t</title><body><p>visible</p>") == "<p>visible</p>"


def test_unclosed_script_drops_the_rest() -> None:
    assert sanitize_html("<p>before</p><script>evil(); <p>after</p>") == "<p>before</p>"


def test_link_that_shows_its_own_address_is_not_repeated() -> None:
    assert sanitize_html('<a href="https://x.example/">https://x.example</a>') == "<a>https://x.example</a>"
    assert sanitize_html('<a href="mailto:help@x.example">help@x.example</a>') == "<a>help@x.example</a>"


def test_malformed_declaration() -> None:
    assert sanitize_html("<p>a</p><![foo]><p>b</p>") == "<p>a</p><p>b</p>"
    assert sanitize_html("<p>a</p><![foo <p>b</p>") == "<p>a</p>&lt;![foo <p>b</p>"


def test_span_attributes_must_be_small_whole_numbers() -> None:
    output = sanitize_html('<td colspan="²">a</td><td rowspan=" 3 ">b</td><td colspan=99999>c</td>')
    assert output == '<td>a</td><td rowspan="3">b</td><td>c</td>'


_TOKENS = [
    *"<>/=\"' !-[]&;#ab\n",
    "script", "style", "img", "a", "href", "src", "p", "td", "colspan", "iframe", "head", "body",
    "javascript:", "http://x", "on", "<!--", "-->", "<![", "<!DOCTYPE",
]
_markup = st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(_markup)
def test_any_markup_comes_out_safe(html: str) -> None:
    assert_safe(sanitize_html(html))
