"""The kinds of personal data the redactor replaces, their placeholder labels and audit categories."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from engine.categories import DataCategory


@dataclass(frozen=True)
class _KindInfo:
    label: str
    category: DataCategory


class Kind(Enum):
    """One kind of personal data; ``label`` names its placeholders (``[EMAIL_1]``)."""

    EMAIL = _KindInfo("EMAIL", DataCategory.EMAIL_ADDRESS)
    PHONE = _KindInfo("PHONE", DataCategory.PHONE)
    POSTCODE = _KindInfo("POSTCODE", DataCategory.POSTAL_ADDRESS)
    NINO = _KindInfo("NINO", DataCategory.NATIONAL_INSURANCE)
    NHS = _KindInfo("NHS", DataCategory.NHS_NUMBER)
    CARD = _KindInfo("CARD", DataCategory.PAYMENT_CARD)
    SORT_CODE = _KindInfo("SORT_CODE", DataCategory.BANK_DETAILS)
    ACCOUNT = _KindInfo("ACCOUNT", DataCategory.BANK_DETAILS)
    IBAN = _KindInfo("IBAN", DataCategory.BANK_DETAILS)
    NAME = _KindInfo("NAME", DataCategory.NAME)

    @property
    def label(self) -> str:
        """The placeholder label, e.g. ``SORT_CODE``."""
        return self.value.label

    @property
    def category(self) -> DataCategory:
        """The audit log's data category for this kind."""
        return self.value.category


#: When two findings overlap and start at the same place, the longer wins; on equal length the
#: kind earlier in this order wins (a checksum-validated identifier beats a looser pattern).
PRIORITY: tuple[Kind, ...] = (
    Kind.EMAIL,
    Kind.IBAN,
    Kind.CARD,
    Kind.NINO,
    Kind.PHONE,
    Kind.NHS,
    Kind.SORT_CODE,
    Kind.ACCOUNT,
    Kind.POSTCODE,
    Kind.NAME,
)

BY_LABEL: dict[str, Kind] = {kind.label: kind for kind in Kind}
