"""Generate realistic small-office emails in bulk (deterministic for a seed).

Used by the pipeline benchmark and the crash test: a mix of categories, senders, HTML-only
messages, latin-1 bodies, replies with quoted history and signatures, and the odd malformed file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

FIRST = [
    "Alice",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Farah",
    "George",
    "Hannah",
    "Imran",
    "Jess",
    "Kieran",
    "Laura",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Priya",
    "Rhys",
    "Sophie",
    "Tom",
    "Zara",
]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Evans",
    "Khan",
    "Wilson",
    "Hughes",
    "Roberts",
    "Walker",
    "Wright",
    "Thompson",
]
DOMAINS = [
    "gmail.com",
    "outlook.com",
    "btinternet.com",
    "harbourcafe.co.uk",
    "northfieldbuilders.co.uk",
    "greenleafdental.co.uk",
    "example.org",
    "riverside-vets.co.uk",
]

BODIES: dict[str, list[tuple[str, str]]] = {
    "complaint": [
        (
            "Very disappointed with my order",
            "I received my business cards today and the colours are completely "
            "wrong - the blue has come out purple. This is not acceptable for a launch event on Friday. "
            "I want a reprint or a refund.",
        ),
        (
            "Late delivery again",
            "This is the second time our flyers have arrived late. We paid for next day "
            "delivery and they turned up three days later. Frankly I'm not happy and expect compensation.",
        ),
        (
            "Poor service",
            "Your courier left our banner out in the rain and it is ruined. Nobody answered the "
            "phone when I called. Please sort this out.",
        ),
    ],
    "enquiry": [
        (
            "Quote for wedding invitations",
            "Could you give me a price for 120 wedding invitations on recycled "
            "card with gold foil? Also do you offer RSVP cards?",
        ),
        ("Opening hours", "Are you open on Saturdays? I'd like to pop in and look at paper samples."),
        (
            "Do you print on fabric?",
            "We're a small cafe looking for printed tote bags. Is that something you "
            "do, and what's the minimum order?",
        ),
    ],
    "order": [
        (
            "New order: 500 flyers",
            "Please could we order 500 A5 flyers, double sided, on 170gsm silk. Artwork "
            "attached in the previous email. Delivery to our shop please.",
        ),
        (
            "Reorder business cards",
            "Hi, I'd like to reorder the same business cards as last time, 250 of "
            "them, with my new mobile number.",
        ),
        (
            "Order for roller banner",
            "We'd like to order two roller banners for the trade show on the 14th. Artwork to follow.",
        ),
    ],
    "billing": [
        (
            "Invoice query",
            "I think invoice 4471 has been charged twice on our card. Could you check and "
            "refund the duplicate payment?",
        ),
        (
            "VAT receipt needed",
            "Please could you send a VAT receipt for our last order? Our accountant needs "
            "it for the quarter.",
        ),
        ("Payment terms", "Can we move to 30 day payment terms for future invoices?"),
    ],
    "cancellation": [
        (
            "Cancel my order",
            "Please cancel order 7702 - the event has been postponed and we no longer need the posters.",
        ),
        (
            "Cancel monthly retainer",
            "We'd like to cancel our monthly design retainer from the end of this "
            "month. Thanks for all your help.",
        ),
    ],
    "notification": [
        (
            "Your parcel is on its way",
            "Your parcel 1Z999AA10123456784 has been dispatched and will arrive "
            "tomorrow between 9am and 1pm. Track it online.",
        ),
        (
            "Payment received",
            "We have received a payment of GBP 120.00. This is an automated message, please do not reply.",
        ),
    ],
    "spam": [
        (
            "Boost your SEO ranking today!!!",
            "We can get your website to the first page of Google in 7 days. "
            "Reply now for a special offer, limited time only!",
        ),
        (
            "You have won a prize",
            "Congratulations! You have been selected to receive a cash prize. Click the "
            "link and enter your bank details to claim.",
        ),
    ],
    "other": [
        (
            "Thank you!",
            "Just wanted to say thank you for the lovely job you did on our invitations. Everyone "
            "loved them.",
        ),
        (
            "Job application",
            "Please find my CV attached for the junior designer role advertised on your website.",
        ),
    ],
}

WEIGHTS = {
    "complaint": 3,
    "enquiry": 5,
    "order": 5,
    "billing": 3,
    "cancellation": 2,
    "notification": 3,
    "spam": 2,
    "other": 2,
}


@dataclass(frozen=True)
class GeneratedEmail:
    """One generated message and the category it was written for."""

    name: str
    category: str
    raw: bytes


def _message(rng: random.Random, index: int, category: str, when: datetime) -> EmailMessage:
    subject, body = rng.choice(BODIES[category])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = rng.choice(DOMAINS)
    if category == "notification":
        sender = f"no-reply@{rng.choice(['parcelforce.example', 'payments.example', 'dpd.example'])}"
        display = "Notifications"
    else:
        sender = f"{first.lower()}.{last.lower()}{index}@{domain}"
        display = f"{first} {last}"
    msg = EmailMessage()
    msg["From"] = f"{display} <{sender}>"
    msg["To"] = "Thornbury & Webb <hello@thornburywebb.co.uk>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(idstring=f"gen{index}", domain="mail.example.org")
    if category == "notification":
        msg["Auto-Submitted"] = "auto-generated"
    text = f"Hello,\n\n{body}\n\nThanks,\n{first}\n-- \n{display}\n07700 900{index % 1000:03d}\n"
    if rng.random() < 0.2:
        text += (
            f"\nOn Mon, 2 Nov 2026 at 10:{index % 60:02d}, Thornbury & Webb wrote:\n"
            "> Thanks for your email.\n> Kind regards\n"
        )
    kind = rng.random()
    if kind < 0.1:
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")) + "</body></html>"
        msg.set_content(html, subtype="html")
    elif kind < 0.2:
        msg.set_content(text.replace("Hello", "Bonjour café"), charset="iso-8859-1")
    else:
        msg.set_content(text)
    return msg


def generate(count: int, *, seed: int = 7, malformed_every: int = 0) -> Iterator[GeneratedEmail]:
    """Yield ``count`` messages; every ``malformed_every``-th is a headerless blob (to be quarantined)."""
    rng = random.Random(seed)
    categories = [c for c, w in WEIGHTS.items() for _ in range(w)]
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for index in range(count):
        name = f"{index:06d}.eml"
        if malformed_every and index % malformed_every == malformed_every - 1:
            yield GeneratedEmail(name, "quarantine", bytes(rng.getrandbits(8) for _ in range(200)))
            continue
        category = rng.choice(categories)
        when = start + timedelta(minutes=7 * index)
        yield GeneratedEmail(name, category, bytes(_message(rng, index, category, when)))


def write_folder(
    folder: Path, count: int, *, seed: int = 7, malformed_every: int = 0
) -> list[GeneratedEmail]:
    """Write generated messages as .eml files into ``folder``; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    emails = list(generate(count, seed=seed, malformed_every=malformed_every))
    for item in emails:
        (folder / item.name).write_bytes(item.raw)
    return emails
