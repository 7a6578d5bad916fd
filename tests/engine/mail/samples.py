"""Realistic raw messages shared by the mail tests (written for these tests, not real mail)."""

from __future__ import annotations

PLAIN = (
    b"Return-Path: <sarah.patel@example.co.uk>\r\n"
    b"From: Sarah Patel <sarah.patel@Example.CO.UK>\r\n"
    b"To: Hughes Lettings <info@hughes-lettings.co.uk>\r\n"
    b"Cc: tom@hughes-lettings.co.uk\r\n"
    b"Subject: Viewing on Thursday\r\n"
    b"Date: Mon, 3 Jun 2024 10:12:00 +0100\r\n"
    b"Message-ID: <CAF1234.abcd@mail.example.co.uk>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Hi Tom,\r\n\r\nAre you free on Thursday at 2pm to show the flat on Mill Road?\r\n\r\n"
    b"Kind regards,\r\nSarah\r\n07700 900123\r\n"
)

REPLY_THREAD = (
    b"From: Tom Hughes <tom@hughes-lettings.co.uk>\r\n"
    b"To: Sarah Patel <sarah.patel@example.co.uk>\r\n"
    b"Subject: RE: Re[2]: Viewing on Thursday\r\n"
    b"Date: Mon, 3 Jun 2024 11:00:00 +0100\r\n"
    b"Message-ID: <reply-2@hughes-lettings.co.uk>\r\n"
    b"In-Reply-To: <reply-1@example.co.uk>\r\n"
    b"References: <CAF1234.abcd@mail.example.co.uk>\r\n <reply-1@example.co.uk>\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Thursday is fine.\r\n\r\n"
    b"On Mon, 3 Jun 2024 at 10:30, Sarah Patel <sarah.patel@example.co.uk> wrote:\r\n"
    b"> Great, see you then?\r\n"
)

MULTIPART = (
    b"From: =?utf-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose@example.es>\r\n"
    b"To: accounts@hughes-lettings.co.uk\r\n"
    b"Subject: =?utf-8?b?RmFjdHVyYSDigqwxMjA=?=\r\n"
    b"Date: Tue, 04 Jun 2024 08:00:00 +0000\r\n"
    b"Message-ID: <multi-1@example.es>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n'
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Please find the invoice for =A3120 attached.\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Please find the invoice for &pound;120 attached.</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename*=UTF-8''factura%20%E2%82%AC120.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IKNSAwIG9iago=\r\n"
    b"--outer--\r\n"
)

HTML_ONLY = (
    b"From: Newsletter <news@shop.example.com>\r\n"
    b"To: info@hughes-lettings.co.uk\r\n"
    b"Subject: Summer offers\r\n"
    b"Message-ID: <html-1@shop.example.com>\r\n"
    b"List-Id: Shop news <news.shop.example.com>\r\n"
    b"Precedence: bulk\r\n"
    b"Content-Type: text/html; charset=windows-1252\r\n"
    b"\r\n"
    b"<html><head><style>p{color:red}</style></head><body><p>Summer \x93offers\x94</p>"
    b"<ul><li>10% off</li><li><a href='https://shop.example.com/sale'>See the sale</a></li></ul>"
    b"<script>track()</script></body></html>\r\n"
)

SEEDS = (PLAIN, REPLY_THREAD, MULTIPART, HTML_ONLY)
