"""The email categories the office sorts mail into, and the personal-data categories the audit log names."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What an email is about; the default set every office starts with."""

    COMPLAINT = "complaint"
    ENQUIRY = "enquiry"
    ORDER = "order"
    BILLING = "billing"
    CANCELLATION = "cancellation"
    NOTIFICATION = "notification"
    SPAM = "spam"
    OTHER = "other"


ALL_CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)

#: Categories that never get a reply: they are labelled and closed.
NO_REPLY_CATEGORIES: frozenset[str] = frozenset({Category.SPAM.value, Category.NOTIFICATION.value})


class DataCategory(StrEnum):
    """Kinds of personal data an audit event says went into a step or out to a destination."""

    EMAIL_ADDRESS = "email_address"
    NAME = "name"
    SUBJECT = "subject"
    MESSAGE_BODY = "message_body"
    ATTACHMENT_METADATA = "attachment_metadata"
    PHONE = "phone"
    POSTAL_ADDRESS = "postal_address"
    NATIONAL_INSURANCE = "national_insurance"
    NHS_NUMBER = "nhs_number"
    PAYMENT_CARD = "payment_card"
    BANK_DETAILS = "bank_details"
    CLASSIFICATION = "classification"
    DRAFT_REPLY = "draft_reply"
