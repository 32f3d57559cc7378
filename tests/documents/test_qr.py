from __future__ import annotations

import pytest

from documents import QrUrlError, build_qr_url, parse_qr_url

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
KEY = bytes(range(32))


def test_build_and_parse() -> None:
    url = build_qr_url("https://verify.example.gov.cn/", CID, KEY)
    assert (
        url
        == f"https://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    )
    assert parse_qr_url(url) == ("https://verify.example.gov.cn", CID, KEY)


def test_path_prefix_and_localhost_http() -> None:
    url = build_qr_url("http://127.0.0.1:8080/ereg", CID, KEY)
    assert url.startswith("http://127.0.0.1:8080/ereg/q/")
    assert parse_qr_url(url).base_url == "http://127.0.0.1:8080/ereg"
    assert parse_qr_url(build_qr_url("http://localhost:9000", CID, KEY)).key == KEY


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (
            f"http://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_SCHEME",
        ),
        (
            f"ftp://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_SCHEME",
        ),
        (f"https://verify.example.gov.cn/q/{CID}", "MISSING_KEY"),
        (f"https://verify.example.gov.cn/q/{CID}#", "MISSING_KEY"),
        (f"https://verify.example.gov.cn/q/{CID}#key=AAEC", "MISSING_KEY"),
        (
            f"https://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
            "BAD_KEY",
        ),
        (
            f"https://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "BAD_KEY",
        ),
        (
            f"https://verify.example.gov.cn/q/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
            "BAD_KEY",
        ),
        (
            "https://verify.example.gov.cn/q/QmBadCid#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_CID",
        ),
        (
            "https://verify.example.gov.cn/q/bafk../x#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_CID",
        ),
        (
            f"https://verify.example.gov.cn/x/{CID}#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_URL",
        ),
        (
            f"https://verify.example.gov.cn/q/{CID}?a=1#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "BAD_URL",
        ),
    ],
)
def test_parse_errors(url: str, code: str) -> None:
    with pytest.raises(QrUrlError) as info:
        parse_qr_url(url)
    assert info.value.code == code
    assert info.value.message_zh


def test_build_errors() -> None:
    with pytest.raises(QrUrlError, match="https"):
        build_qr_url("http://verify.example.gov.cn", CID, KEY)
    with pytest.raises(QrUrlError, match=r"32 \(AES-256\) or 16 \(SM4\) bytes"):
        build_qr_url("https://verify.example.gov.cn", CID, KEY[:24])
    with pytest.raises(QrUrlError, match="CID"):
        build_qr_url("https://verify.example.gov.cn", "Qm" + "a" * 44, KEY)
    with pytest.raises(QrUrlError, match="query"):
        build_qr_url("https://verify.example.gov.cn/?x=1", CID, KEY)
