"""Run as a script: print (JSON) what Qt computes with ICU, and which ICU data library was loaded.

Used by test_icu_data.py to compare the wheel's ICU data with the bundle's trimmed copy (chosen
with LD_LIBRARY_PATH). Covers every ICU service Qt calls: collation, converters, time-zone names
and calendars, case mapping.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QCollator,
    QDate,
    QDateTime,
    QLocale,
    QMimeData,
    QStringConverter,
    QStringDecoder,
    QStringEncoder,
    QTime,
    QTimeZone,
)

LOCALES = ("en_GB", "de_DE", "sv_SE", "tr_TR", "zh_CN", "ja_JP", "fr_FR", "el_GR", "pl_PL", "ar_EG")
WORDS = ("Zebra", "apple", "Äpfel", "Ångström", "zoo", "Öl", "oil", "ıslak", "Istanbul", "中文", "日本",
         "łódź", "Lodz", "éclair", "eclair", "10", "9", "straße", "strasse")
#: Encodings Qt leaves to ICU, with Python's codec for the same (to make the bytes Qt decodes).
ENCODINGS = {"Shift_JIS": "shift_jis", "EUC-JP": "euc_jp", "ISO-2022-JP": "iso2022_jp", "GB18030": "gb18030",
             "GBK": "gbk", "Big5": "big5", "EUC-KR": "euc_kr", "windows-1252": "cp1252",
             "windows-1250": "cp1250", "KOI8-R": "koi8_r", "ISO-8859-7": "iso8859_7", "IBM037": "cp037",
             "macintosh": "mac_roman", "TIS-620": "tis_620"}
TEXT = "Grüße, Łódź — 東京 한국 Москва Ελλάδα £5 €"
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Europe/Berlin", "UTC")


def probe() -> dict[str, object]:
    """Everything Qt asks ICU for, for a spread of locales, encodings and zones."""
    out: dict[str, object] = {}
    for name in LOCALES:
        locale = QLocale(name)
        collator = QCollator(locale)
        out[f"sort {name}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
        collator.setNumericMode(True)
        collator.setCaseSensitivity(collator.caseSensitivity().__class__.CaseInsensitive)
        out[f"sort numeric {name}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
        out[f"sortkey {name}"] = [collator.sortKey(w).compare(collator.sortKey("m")) for w in WORDS]
        out[f"upper {name}"] = locale.toUpper("istanbul straße ἄλφα ǆ")
        out[f"lower {name}"] = locale.toLower("İSTANBUL ΟΔΟΣ ǅ")
    for encoding, python_codec in ENCODINGS.items():
        html = f'<html><head><meta charset="{encoding}"></head><body>{TEXT}</body></html>'
        mime = QMimeData()  # decodes text/html by its meta charset, with ICU for these encodings
        mime.setData("text/html", QByteArray(html.encode(python_codec, errors="replace")))
        out[f"codec {encoding}"] = [QStringDecoder(encoding).isValid(), QStringEncoder(encoding).isValid(),
                                    QStringDecoder(encoding).name(), mime.html()]
    out["codecs"] = sorted(QStringConverter.availableCodecs())
    moment = QDateTime(QDate(2026, 1, 15), QTime(12, 0), QTimeZone.utc())
    summer = QDateTime(QDate(2026, 7, 15), QTime(12, 0), QTimeZone.utc())
    for zone_id in ZONES:
        zone = QTimeZone(zone_id.encode())
        for name in ("en_GB", "de_DE", "ja_JP"):
            locale = QLocale(name)
            out[f"zone {zone_id} {name}"] = [
                zone.displayName(when, kind, locale)
                for when in (moment, summer)
                for kind in (QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName,
                             QTimeZone.NameType.OffsetName, QTimeZone.NameType.DefaultName)
            ]
        out[f"offsets {zone_id}"] = [zone.offsetFromUtc(moment), zone.offsetFromUtc(summer), zone.isValid()]
    out["loaded"] = sorted({line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
                            if "libicudata" in line})
    return out


if __name__ == "__main__":
    print(json.dumps(probe(), ensure_ascii=False))
