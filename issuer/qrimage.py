"""QR images of the documents' verification URLs: PNG and SVG, from zxing-cpp's encoder.

``ereg issue`` draws one or two images per document, so their cost is the issuer's cost per
document. The symbol (version, mask, error correction M) comes from zxing-cpp, which encodes in
C++ in about half a millisecond; the two file formats are written here from its module matrix,
because both are simple and doing it here costs less than going through an imaging library:

* PNG: one-bit greyscale, each module ``scale`` pixels, a ``border`` of light modules (4, the
  quiet zone ISO/IEC 18004 asks for), zlib-compressed rows;
* SVG: one ``path`` of dark runs, one run per row segment, in module units scaled by the
  ``width``/``height`` attributes, ``shape-rendering="crispEdges"`` so no scanner sees
  anti-aliased seams between runs.

Both are checked in the tests by decoding them back (zbarimg on the PNG and on a rasterisation of
the SVG's path).
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass
from typing import Any, cast

import zxingcpp

#: Pixels per module and light modules around the symbol, as the images had before.
SCALE = 6
BORDER = 4


class QrKinds(enum.StrEnum):
    """Which QR images ``ereg issue`` writes beside each document (the ``.qr.url`` always)."""

    none = "none"
    png = "png"
    svg = "svg"
    both = "both"

    @property
    def png_wanted(self) -> bool:
        return self in (QrKinds.png, QrKinds.both)

    @property
    def svg_wanted(self) -> bool:
        return self in (QrKinds.svg, QrKinds.both)


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """The symbol's modules: ``rows[y][x]`` is 1 for a dark module."""

    size: int
    rows: tuple[bytes, ...]


def qr_matrix(text: str) -> QrMatrix:
    """The QR code (model 2, error correction M, byte mode) of ``text``.

    Raises ValueError when ``text`` does not fit a QR code at level M.
    """
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(cast(Any, zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=False)))
    height, width = cast(tuple[int, int], image.shape)
    if height != width:
        raise ValueError(f"a QR symbol is square, the encoder drew {width}×{height}")
    raw = image.tobytes()
    # the encoder draws dark modules black (0) on white (255)
    dark = bytes.maketrans(b"\x00\xff", b"\x01\x00")
    return QrMatrix(width, tuple(raw[y * width : (y + 1) * width].translate(dark) for y in range(height)))


def png_of(matrix: QrMatrix, *, scale: int = SCALE, border: int = BORDER) -> bytes:
    """A one-bit greyscale PNG of ``matrix``: dark modules black, ``border`` light modules round it."""
    modules = matrix.size + 2 * border
    side = modules * scale
    row_bytes = (side + 7) // 8
    # a module becomes ``scale`` bits (PNG greyscale: 0 black, 1 white); a row, filter byte 0
    # (None) and its bits, eight to a byte, MSB first, the last byte padded with zeros
    widen = {ord("0"): "1" * scale, ord("1"): "0" * scale}
    padding = "0" * (row_bytes * 8 - side)
    margin = "0" * border

    def line(row: bytes) -> bytes:
        bits = (margin + row.translate(_DIGITS).decode() + margin).translate(widen) + padding
        return b"\x00" + int(bits, 2).to_bytes(row_bytes, "big")

    light = line(bytes(matrix.size)) * (border * scale)
    raw = b"".join((light, *(line(row) * scale for row in matrix.rows), light))
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit per pixel, greyscale
    return b"".join(
        (b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, 6)), _chunk(b"IEND", b""))
    )


def svg_of(matrix: QrMatrix, *, scale: int = SCALE, border: int = BORDER) -> bytes:
    """An SVG of ``matrix``: a white square and one black path of the dark runs, in module units."""
    modules = matrix.size + 2 * border
    side = modules * scale
    parts: list[str] = []
    for y, row in enumerate(matrix.rows):
        x = 0
        while x < matrix.size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < matrix.size and row[x]:
                x += 1
            parts.append(f"M{start + border} {y + border}h{x - start}v1h-{x - start}z")
    path = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="0 0 {modules} {modules}" '
        f'shape-rendering="crispEdges"><rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    ).encode()


def render(url: str, kinds: QrKinds = QrKinds.both) -> tuple[bytes | None, bytes | None]:
    """PNG and SVG of the QR code of ``url`` (None for a kind not wanted)."""
    if kinds is QrKinds.none:
        return None, None
    matrix = qr_matrix(url)
    return (png_of(matrix) if kinds.png_wanted else None, svg_of(matrix) if kinds.svg_wanted else None)


#: module values (0 light, 1 dark) as the digits "0" and "1"
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


__all__ = ["BORDER", "SCALE", "QrKinds", "QrMatrix", "png_of", "qr_matrix", "render", "svg_of"]
