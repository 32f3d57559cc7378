"""The QR images ``ereg issue`` writes: decoded back by zbar (PNG), by zxing-cpp's reader, and by zbar
again from Chromium's rendering of the SVG, for the URLs documents really carry."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from PIL import Image

from documents.qr import build_qr_url
from issuer.qrimage import BORDER, SCALE, QrKinds, png_of, qr_matrix, render, svg_of
from storage.cid import compute_cid
from tests.conftest import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser

#: What documents carry: a verifier base, a CID and a 32-byte (AES) or 16-byte (SM4) key; and a
#: longer base of the kind a city's portal might have.
URLS = [
    build_qr_url("https://verify.example.gov.cn", compute_cid(os.urandom(900)), os.urandom(32)),
    build_qr_url("https://verify.example.gov.cn", compute_cid(os.urandom(900)), os.urandom(16)),
    build_qr_url(
        "https://zwfw.example.gov.cn/one-network/e-registry/verifier/v1", compute_cid(os.urandom(70_000)), bytes(32)
    ),
    "https://example.gov.cn/x",
]


def zbar(path: Path) -> str:
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize("url", URLS, ids=["aes-key", "sm4-key", "long-base", "short"])
def test_png_decodes_to_the_url(url: str, tmp_path: Path) -> None:
    require(shutil.which("zbarimg") is not None, "zbarimg (zbar-tools) is not installed")
    png = png_of(qr_matrix(url))
    (tmp_path / "qr.png").write_bytes(png)
    assert zbar(tmp_path / "qr.png") == url
    # a second decoder, and the image's own form: one bit per pixel, the quiet zone light
    image = Image.open(io.BytesIO(png))
    assert image.mode == "1"
    size = qr_matrix(url).size
    assert image.size == ((size + 2 * BORDER) * SCALE,) * 2
    found = zxingcpp.read_barcodes(image.convert("L"))
    assert [(b.text, b.format, b.ec_level) for b in found] == [(url, zxingcpp.BarcodeFormat.QRCode, "M")]
    grey = image.convert("L")
    side = image.size[0]
    margin = BORDER * SCALE
    quiet = [grey.getpixel((x, y)) for x in range(side) for y in (*range(margin), *range(side - margin, side))]
    assert set(quiet) == {255}


def test_png_matches_the_encoders_own_drawing_pixel_for_pixel() -> None:
    """The PNG written here is the same picture as zxing-cpp's own renderer draws of the symbol."""
    url = URLS[0]
    barcode = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    theirs = memoryview(zxingcpp.write_barcode_to_image(barcode, scale=SCALE, add_quiet_zones=False))  # type: ignore[arg-type]
    height, width = theirs.shape  # type: ignore[misc]
    ours = Image.open(io.BytesIO(png_of(qr_matrix(url)))).convert("L")
    margin = BORDER * SCALE
    cropped = ours.crop((margin, margin, margin + width, margin + height))
    assert cropped.tobytes() == theirs.tobytes()


def test_svg_is_well_formed_and_sized_like_the_png() -> None:
    matrix = qr_matrix(URLS[0])
    root = ET.fromstring(svg_of(matrix))  # noqa: S314 - own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    side = (matrix.size + 2 * BORDER) * SCALE
    assert (root.get("width"), root.get("height")) == (str(side), str(side))
    assert root.get("viewBox") == f"0 0 {matrix.size + 2 * BORDER} {matrix.size + 2 * BORDER}"
    # every dark module is covered by exactly one run, and nothing else is
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    covered: set[tuple[int, int]] = set()
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d", "")):
        cells = {(int(x) - BORDER + i, int(y) - BORDER) for i in range(int(length))}
        assert not cells & covered
        covered |= cells
    dark = {(x, y) for y, row in enumerate(matrix.rows) for x, module in enumerate(row) if module}
    assert covered == dark


@pytest.mark.browser
@pytest.mark.parametrize("url", URLS[:3], ids=["aes-key", "sm4-key", "long-base"])
def test_svg_as_chromium_draws_it_decodes_to_the_url(chromium: Browser, url: str, tmp_path: Path) -> None:
    """The SVG opened as a file in a browser, its screenshot read by zbar."""
    require(shutil.which("zbarimg") is not None, "zbarimg (zbar-tools) is not installed")
    svg = tmp_path / "qr.svg"
    svg.write_bytes(svg_of(qr_matrix(url)))
    page = chromium.new_page()
    try:
        page.goto(svg.as_uri())
        page.locator("svg").screenshot(path=str(tmp_path / "shot.png"))
    finally:
        page.close()
    assert zbar(tmp_path / "shot.png") == url


def test_render_gives_only_the_kinds_asked_for() -> None:
    url = URLS[0]
    png, svg = render(url, QrKinds.both)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert svg is not None and svg.startswith(b"<svg ")
    assert render(url, QrKinds.png) == (png, None)
    assert render(url, QrKinds.svg) == (None, svg)
    assert render(url, QrKinds.none) == (None, None)


def test_a_text_too_long_for_a_qr_code_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        qr_matrix("x" * 3000)
