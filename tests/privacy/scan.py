"""Looking for personal values in clear: in log files, on the chain, in the IPFS daemon's blocks.

A value counts as "in clear" in any form a reader undoes without a key: its UTF-8 bytes, their
hex (any case), the ``\\uXXXX`` escapes of ASCII-only JSON, URL percent-encoding, base64 (at each
of the three byte alignments, standard and URL-safe), and for a number its digits alone and the
integer itself (hex text, big-endian bytes: how a number sits in ABI-encoded calldata).
:func:`gather_chain` and :func:`gather_ipfs` turn everything the chain and the daemon hold into
:class:`Source` objects; :class:`Scanner` finds the values in them and says where.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
from web3 import Web3

#: Shorter encodings are left out: a few bytes match random binary data by chance.
MIN_BINARY = 6
MIN_BASE64 = 8


@dataclass(frozen=True)
class Needle:
    value: str
    form: str
    pattern: bytes
    folded: bool  # matched case-insensitively (ASCII letters): hex in either case, a lower-case x


@dataclass(frozen=True)
class Source:
    """Bytes to search and where they came from; ``lines``: report hits by line number."""

    where: str
    data: bytes
    lines: bool = False


@dataclass(frozen=True)
class Hit:
    value: str
    form: str
    where: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.value!r} as {self.form}: …{self.excerpt}…"


def _base64_forms(raw: bytes) -> list[tuple[str, bytes]]:
    """The characters of ``base64(prefix + raw)`` that depend on ``raw`` alone, for each prefix length."""
    found: list[tuple[str, bytes]] = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw)
        start = -(-8 * shift // 6)  # the first character with no bit of the prefix
        end = 8 * (shift + len(raw)) // 6  # past the last character with no padding bit
        core = encoded[start:end]
        if len(core) >= MIN_BASE64:
            found.append((f"base64+{shift}", core))
            urlsafe = core.replace(b"+", b"-").replace(b"/", b"_")
            if urlsafe != core:
                found.append((f"base64url+{shift}", urlsafe))
    return found


def needles_of(value: str) -> list[Needle]:
    """Every form of ``value`` that is "in clear" (see the module's docstring)."""
    raw = value.encode("utf-8")
    forms: list[tuple[str, bytes, bool]] = [("utf-8", raw, True), ("hex", raw.hex().encode(), True)]
    escaped = json.dumps(value)[1:-1].encode("ascii")
    if escaped != raw:
        forms.append(("json-escaped", escaped, True))
    for name, quoted in (("percent", quote(value, safe="")), ("percent-plus", quote_plus(value, safe=""))):
        if quoted.encode() != raw and all(quoted.encode() != f[1] for f in forms):
            forms.append((name, quoted.encode(), True))
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 8 and len(digits) >= len(value) - 4:  # a number, perhaps with spaces or a check letter
        if digits != value:
            forms.append(("digits", digits.encode(), True))
        number = int(digits)
        forms.append(("integer-hex", f"{number:x}".encode(), True))
        packed = number.to_bytes((number.bit_length() + 7) // 8, "big")
        if len(packed) >= MIN_BINARY:
            forms.append(("integer-bytes", packed, False))
    forms.extend((name, encoded, False) for name, encoded in _base64_forms(raw))
    return [Needle(value, form, pattern.lower() if folded else pattern, folded) for form, pattern, folded in forms]


class Scanner:
    """Finds any form of any of ``values`` in sources; every hit with where it is."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = sorted(set(values))
        self.needles = [n for v in self.values for n in needles_of(v)]

    def scan(self, source: Source) -> list[Hit]:
        hits: list[Hit] = []
        folded = source.data.lower()
        for needle in self.needles:
            data = folded if needle.folded else source.data
            at = data.find(needle.pattern)
            while at != -1:
                hits.append(self._hit(needle, source, at))
                at = data.find(needle.pattern, at + 1)
        return hits

    def scan_all(self, sources: Iterable[Source]) -> list[Hit]:
        return [hit for source in sources for hit in self.scan(source)]

    def found(self, source: Source) -> set[str]:
        """The values found in ``source``, in any form."""
        return {hit.value for hit in self.scan(source)}

    @staticmethod
    def _hit(needle: Needle, source: Source, at: int) -> Hit:
        where = source.where
        if source.lines:
            line = source.data.count(b"\n", 0, at) + 1
            where = f"{where}:{line}"
        window = source.data[max(0, at - 40) : at + len(needle.pattern) + 40]
        return Hit(needle.value, needle.form, where, window.decode("utf-8", "replace").replace("\n", "⏎"))


def report(hits: Sequence[Hit], limit: int = 40) -> str:
    lines = [str(hit) for hit in hits[:limit]]
    if len(hits) > limit:
        lines.append(f"… and {len(hits) - limit} more")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the sources
def file_sources(paths: Iterable[Path]) -> list[Source]:
    """Each existing file whole (a log is reported by line)."""
    return [
        Source(str(path), path.read_bytes(), lines=path.suffix in (".log", ".jsonl"))
        for path in paths
        if path.is_file()
    ]


@dataclass
class ChainContents:
    sources: list[Source] = field(default_factory=list)
    blocks: int = 0
    transactions: int = 0
    receipt_logs: int = 0
    filter_logs: int = 0


def _log_source(where: str, log: Any) -> Source:
    data = bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"])
    return Source(where, data)


def gather_chain(w3: Web3) -> ChainContents:
    """Every block from genesis to the head: its extra data, every transaction's input, every
    receipt's logs (data and topics); and every log once more as eth_getLogs returns them."""
    contents = ChainContents()
    head = w3.eth.block_number
    for number in range(head + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        contents.blocks += 1
        # the client's proof-of-authority middleware moves a Besu block's extraData here
        extra = block["proofOfAuthorityData"] if "proofOfAuthorityData" in block else block["extraData"]
        contents.sources.append(Source(f"block {number} extraData", bytes(extra)))
        for tx in block["transactions"]:
            assert not isinstance(tx, bytes)  # full transactions asked for
            tx_hash = "0x" + bytes(tx["hash"]).hex()
            contents.transactions += 1
            contents.sources.append(Source(f"block {number} tx {tx_hash} input", bytes(tx["input"])))
            for log in w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                contents.receipt_logs += 1
                contents.sources.append(_log_source(f"block {number} tx {tx_hash} log {log['logIndex']}", log))
    for log in w3.eth.get_logs({"fromBlock": 0, "toBlock": head}):
        contents.filter_logs += 1
        contents.sources.append(_log_source(f"eth_getLogs block {log['blockNumber']} log {log['logIndex']}", log))
    return contents


@dataclass
class IpfsContents:
    sources: list[Source] = field(default_factory=list)
    pinned: set[str] = field(default_factory=set)

    @property
    def cids(self) -> set[str]:
        return {source.where.removeprefix("ipfs block ") for source in self.sources}


def gather_ipfs(api_url: str) -> IpfsContents:
    """Every block in the daemon's blockstore (``refs/local``), fetched raw (``block/get``), and
    the pins (``pin/ls``), through the daemon's own HTTP RPC API."""
    contents = IpfsContents()
    with httpx.Client(base_url=api_url, timeout=30.0) as http:
        listed = http.post("/api/v0/refs/local")
        listed.raise_for_status()
        refs = [json.loads(line) for line in listed.text.splitlines() if line.strip()]
        errors = [ref for ref in refs if ref.get("Err")]
        assert not errors, f"refs/local reported errors: {errors[:5]}"
        for ref in refs:
            block = http.post("/api/v0/block/get", params={"arg": ref["Ref"]})
            block.raise_for_status()
            contents.sources.append(Source(f"ipfs block {ref['Ref']}", block.content))
        pins = http.post("/api/v0/pin/ls", params={"type": "all"})
        pins.raise_for_status()
        for line in pins.text.splitlines():
            if line.strip():
                contents.pinned.update(json.loads(line).get("Keys", {}))
    return contents
