"""The default reply templates: warm, British, short, and promising nothing the office has not said.

Each acknowledges the email, says who will act and (in general terms) when, and asks for what is
usually missing. None repeats the sender's words: a reply never quotes untrusted content.
Placeholders: ``$sender_name``, ``$subject``, ``$reference``, ``$office_name``, ``$signature``.
"""

from __future__ import annotations

from types import MappingProxyType

_REFERENCE = "Your reference is $reference; if you write again, please keep it in the subject line."
_CLOSE = "Kind regards,\n$signature"

COMPLAINT = f"""Hello $sender_name,

Thank you for letting us know, and I am sorry that things have not gone as they should have.

I have passed your message to the member of the team looking after this. They will look into what \
happened and come back to you personally as soon as they can.

If you have not already sent them, your order number and, where it helps, a photo of the problem \
would let us put things right more quickly.

{_REFERENCE}

{_CLOSE}
"""

ENQUIRY = f"""Hello $sender_name,

Thank you for getting in touch with $office_name.

One of the team will look at your question and reply with the details as soon as we can. If you \
are asking for a quote, it helps to know the quantity, size and finish you have in mind, and the \
date you need things by.

{_REFERENCE}

{_CLOSE}
"""

ORDER = f"""Hello $sender_name,

Thank you for your order.

One of the team will check the details and confirm everything with you, including the price and \
timing, before any work goes ahead. If we need anything else, such as artwork files or a purchase \
order number, we will let you know.

{_REFERENCE}

{_CLOSE}
"""

BILLING = f"""Hello $sender_name,

Thank you for your email.

I have passed it to the person who looks after our accounts, and they will get back to you as soon \
as they can. If it concerns a particular invoice or payment, the invoice number, amount and date \
would help us find it quickly.

{_REFERENCE}

{_CLOSE}
"""

CANCELLATION = f"""Hello $sender_name,

Thank you for letting us know.

We have received your request to cancel. One of the team will check where things stand and \
confirm with you as soon as possible, including whether any work has already started. If you have \
an order or booking number, please send it to us so that we can find it quickly.

{_REFERENCE}

{_CLOSE}
"""

OTHER = f"""Hello $sender_name,

Thank you for your email to $office_name. One of the team will read it and reply if anything \
is needed from us.

{_REFERENCE}

{_CLOSE}
"""

#: Category → default template text (spam and notifications get no reply).
DEFAULT_TEMPLATES = MappingProxyType({
    "complaint": COMPLAINT,
    "enquiry": ENQUIRY,
    "order": ORDER,
    "billing": BILLING,
    "cancellation": CANCELLATION,
    "other": OTHER,
})
