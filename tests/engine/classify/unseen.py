"""Hand-written emails that are not in the shipped training data, one small set per category."""

from __future__ import annotations

# (category, subject, body, sender)
UNSEEN: tuple[tuple[str, str, str, str], ...] = (
    ("complaint", "Flyers are the wrong colour",
     "I'm really disappointed. The flyers we picked up yesterday are a muddy brown instead of the orange "
     "on the proof, and half of them are creased. This isn't good enough.", "gemma.watts@gmail.com"),
    ("complaint", "Shocking service",
     "Three emails and two phone calls and still nobody can tell me why my banner hasn't arrived. Awful.",
     "p.noble@btinternet.com"),
    ("complaint", "Invitations arrived damaged",
     "Our wedding invitations turned up today with the corners bent and a tear in the envelope pack. "
     "We're very upset as they cost a lot.", "leah.hart@outlook.com"),
    ("enquiry", "Price for A4 posters",
     "Hi, roughly how much would 20 A4 posters cost on a heavier paper? Do you need the file as a PDF?",
     "nina.baker@gmail.com"),
    ("enquiry", "Do you print booklets?",
     "Hello, do you print small booklets, about 12 pages? What would the turnaround be for 100 copies?",
     "frank@mendipbrewing.co.uk"),
    ("enquiry", "Opening times",
     "Are you open late on Thursdays? I work until 5 and would like to pop in to look at paper samples.",
     "r.singh@yahoo.co.uk"),
    ("order", "Please print 300 leaflets",
     "Please print 300 DL leaflets double sided on 150gsm silk using the attached artwork. I'll collect "
     "them next Wednesday.", "oliver@frome-deli.co.uk"),
    ("order", "Proof signed off",
     "The proof is spot on, please go ahead and print the 150 invitations. Thank you!", "katie.m@icloud.com"),
    ("order", "Reorder business cards",
     "Could we reorder 500 business cards for Mark, same as last year but with his new mobile number "
     "(attached)?", "office@hollowayarchitects.co.uk"),
    ("billing", "Invoice 4410 query",
     "Could you send a copy of invoice 4410 with our PO number on it? Our accounts team need it before they "
     "can make the payment.", "accounts@avonhousing.org.uk"),
    ("billing", "Payment sent",
     "Just to let you know I've paid the balance of £185 by bank transfer today, reference HART.",
     "leah.hart@outlook.com"),
    ("billing", "VAT invoice",
     "Please can I have a VAT invoice for the banners I paid for by card? My accountant needs it.",
     "steve@bedminsterbikes.co.uk"),
    ("cancellation", "Cancel the calendar order",
     "Sorry, please cancel our calendar order. The client has pulled the project so we no longer need them.",
     "hello@cliftonmarketing.co.uk"),
    ("cancellation", "Cancelling my appointment",
     "I need to cancel my appointment on Monday at 11. I'll call to rebook next week.", "amy.c@gmail.com"),
    ("cancellation", "Please cancel order 77120",
     "Please cancel order 77120 and refund my card. I ordered the wrong size by mistake.",
     "dan.lewis@sky.com"),
    ("notification", "Your package has been delivered",
     "Your package was delivered to your front door at 12:41. Thank you for shopping with us. This is an "
     "automated email, please do not reply.", "no-reply@shipping.amazon.co.uk"),
    ("notification", "New sign-in to your account",
     "We noticed a new sign-in to your account from Chrome on Windows. If this was you, you can ignore this "
     "message.", "no-reply@accounts.zoho.eu"),
    ("notification", "Your statement is ready",
     "Your November statement is now available to view online. Log in to your account to see it.",
     "alerts@metrobank.co.uk"),
    ("spam", "Boost your sales with our SEO package",
     "Dear owner, your website is losing customers. Our SEO experts guarantee top 3 Google rankings in "
     "two weeks. Reply now for 70% off.", "offers@rank-booster-seo.biz"),
    ("spam", "Account suspended - verify now",
     "Your email account has been suspended due to suspicious activity. Click the link below and enter your "
     "password to restore access within 24 hours.", "admin@secure-mail-verify.top"),
    ("spam", "You have won a prize",
     "Congratulations! You have been selected to win a £1,000 Amazon gift card. Claim your prize now by "
     "confirming your details.", "promo@giftcard-winner.click"),
    ("other", "Thanks so much",
     "Just a quick note to say thank you for the beautiful christening cards. Everyone loved them.",
     "nana.jo@hotmail.co.uk"),
    ("other", "Dentist tomorrow",
     "Heads up, I've got the dentist tomorrow morning so I'll be in at 11. The proofs for Avon Housing are "
     "on my desk.", "mark@thornburywebb.co.uk"),
    ("other", "Application for the studio assistant job",
     "I'd like to apply for the studio assistant job you advertised. I've attached my CV. I have two years' "
     "experience in a copy shop.", "jamie.fox@gmail.com"),
)
