"""Draw the app icon (an envelope with a tick, in the app's blue) and write it as PNG, ICO and ICNS.

The icon is drawn with QPainter at every size it is stored in (so small sizes stay crisp), then
packed by hand: ICO and ICNS files are simple containers of PNG images (Windows Vista and later,
macOS 10.7 and later read PNG entries), so no image tool is needed on any platform.

Usage: python packaging/make_icons.py [--out DIR]     (default: desktop/app/resources)
Writes inbox-triage.png (512 px), inbox-triage.ico and inbox-triage.icns.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "desktop" / "app" / "resources"
NAME = "inbox-triage"
BLUE = "#1f6feb"
DARK_BLUE = "#1858c4"
PNG_SIZE = 512
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS entry types holding PNG data, by pixel size (the @2x types share sizes with the 1x ones).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"icp6", 64),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),
    (b"ic09", 512),
    (b"ic14", 512),
    (b"ic10", 1024),
)


def render_png(size: int) -> bytes:
    """The icon drawn at ``size`` × ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    # background: the app's blue, a rounded square with a gentle top-to-bottom shade
    gradient = QLinearGradient(QPointF(0, 0), QPointF(0, size))
    gradient.setColorAt(0.0, QColor(BLUE).lighter(112))
    gradient.setColorAt(1.0, QColor(DARK_BLUE))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 13 * s, 13 * s)
    # the envelope: white, with its flap drawn in blue
    body = QRectF(10 * s, 17 * s, 40 * s, 28 * s)
    p.setBrush(QColor("#ffffff"))
    p.drawRoundedRect(body, 3 * s, 3 * s)
    flap = QPainterPath()
    flap.moveTo(12 * s, 19.5 * s)
    flap.lineTo(30 * s, 33 * s)
    flap.lineTo(48 * s, 19.5 * s)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(BLUE), max(1.0, 3 * s), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.drawPath(flap)
    # the tick: a white disc ringed in blue at the lower right, a blue check mark inside
    centre = QPointF(46 * s, 44 * s)
    radius = 12 * s
    p.setPen(QPen(QColor(BLUE), max(1.0, 2.5 * s)))
    p.setBrush(QColor("#ffffff"))
    p.drawEllipse(centre, radius, radius)
    tick = QPainterPath()
    tick.moveTo(40.5 * s, 44.5 * s)
    tick.lineTo(44.5 * s, 48.5 * s)
    tick.lineTo(51.5 * s, 39.5 * s)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(BLUE), max(1.5, 3.6 * s), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.drawPath(tick)
    p.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # the stubs want bytes; Qt wants str
        raise RuntimeError(f"Qt could not encode the {size} px icon as PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(images: Iterable[tuple[int, bytes]]) -> bytes:
    """An ICO file holding the given (size, PNG bytes) images."""
    entries = list(images)
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = 6 + 16 * len(entries)
    directory = b""
    payload = b""
    for size, png in entries:
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(payload))
        payload += png
    return header + directory + payload


def icns_bytes(images: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An ICNS file holding the given (type code, PNG bytes) entries."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in images)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(out: Path) -> list[Path]:
    """Render every size once and write the PNG, ICO and ICNS files into ``out``; return their paths."""
    from PySide6.QtGui import QGuiApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    sizes = sorted({PNG_SIZE, *ICO_SIZES, *(size for _kind, size in ICNS_TYPES)})
    pngs = {size: render_png(size) for size in sizes}
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{NAME}.png", out / f"{NAME}.ico", out / f"{NAME}.icns"]
    written[0].write_bytes(pngs[PNG_SIZE])
    written[1].write_bytes(ico_bytes((size, pngs[size]) for size in ICO_SIZES))
    written[2].write_bytes(icns_bytes((kind, pngs[size]) for kind, size in ICNS_TYPES))
    del _app
    return written


def main() -> None:
    """Write the icons (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for path in write_icons(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
