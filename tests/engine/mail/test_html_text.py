"""HTML email to readable text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mail.html_text import html_to_text

OUTLOOK_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<title>Invoice</title>
<style><!-- p.MsoNormal {margin:0cm; font-family:"Calibri"} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head><body lang=EN-GB>
<div class=WordSection1><p class=MsoNormal>Dear Mr&nbsp;Hughes,<o:p></o:p></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Please find our invoice INV-0042 for &pound;1,250.00 attached.<o:p></o:p></p>
<p class=MsoNormal>Payment is due within 30&nbsp;days.</p>
<p class=MsoNormal>Regards,<br>Accounts<br><a href="https://acme.example.co.uk">acme.example.co.uk</a></p>
</div></body></html>"""


def test_outlook_html() -> None:
    assert html_to_text(OUTLOOK_HTML) == (
        "Dear Mr Hughes,\n\n"
        "Please find our invoice INV-0042 for £1,250.00 attached.\n\n"
        "Payment is due within 30 days.\n\n"
        "Regards,\nAccounts\nacme.example.co.uk (https://acme.example.co.uk)"
    )


def test_lists_links_and_images() -> None:
    html = (
        "<p>Options:</p><ol><li>Repair</li><li>Replace<ul><li>new</li><li>refurbished</li></ul></li></ol>"
        "<p><a href='https://x.example/a'>Book now</a> or <a href='mailto:help@x.example'>help@x.example</a>"
        " <a href='javascript:evil()'>click</a> <img src='https://t.example/p.gif'>"
        " <img alt='Company logo'></p>"
    )
    assert html_to_text(html) == (
        "Options:\n\n1. Repair\n2. Replace\n  - new\n  - refurbished\n\n"
        "Book now (https://x.example/a) or help@x.example click [image: Company logo]"
    )


def test_scripts_styles_and_head_are_dropped() -> None:
    html = "<head><title>T</title><script>var a = '<p>x</p>';</script></head>"
    html += "<body>Hi<style>b{}</style></body>"
    assert html_to_text(html) == "Hi"


def test_whitespace_is_collapsed_outside_pre_and_kept_inside() -> None:
    html = "<p>  lots   of\n\n spaces </p><pre>  keep\n    this</pre>"
    assert html_to_text(html) == "lots of spaces\n\n  keep\n    this"


def test_blockquotes_become_quoted_lines() -> None:
    html = "<p>Yes please.</p><div>On Monday Jane wrote:</div><blockquote><p>Shall I book?</p></blockquote>"
    assert html_to_text(html) == "Yes please.\n\nOn Monday Jane wrote:\n\n> Shall I book?"


def test_entities_and_invisible_characters() -> None:
    assert html_to_text("caf&eacute; &amp; &#8364;5&zwnj;&#xad; &lt;tag&gt;") == "café & €5 <tag>"


def test_table_cells_are_separated() -> None:
    html = "<table><tr><td>Order</td><td>123</td></tr><tr><td>Total</td><td>£5</td></tr></table>"
    assert html_to_text(html) == "Order 123\nTotal £5"


def test_malformed_declarations_do_not_break_conversion() -> None:
    # html.parser raises AssertionError on "<![foo]>": the converter retries without declarations.
    assert html_to_text("<p>before</p><![foo bar]><p>after</p>") == "before\n\nafter"
    # An unclosed "<" is text.
    assert html_to_text("<p>before</p><![foo bar<p>after</p>") == "before\n\n<![foo bar\n\nafter"


def test_unclosed_and_broken_markup() -> None:
    assert html_to_text("<p>one<p>two<div><b>bold") == "one\n\ntwo\nbold"
    assert html_to_text("a < b and c > d <") == "a < b and c > d <"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>!-[]/ab=\"' &;#\nscriptpreul")), max_size=200))
def test_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_defuse_escapes_only_what_does_not_close() -> None:
    from engine.mail.html_defuse import defuse_html

    assert defuse_html("a <b>bold</b> c < d <!-- note --> <!-- open") == (
        "a <b>bold</b> c &lt; d <!-- note --> &lt;!-- open"
    )
    assert defuse_html("no markup") == "no markup"
    assert defuse_html("<a <b>") == "&lt;a <b>"
