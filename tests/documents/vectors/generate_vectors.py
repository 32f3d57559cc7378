"""Regenerate ``ereg1.json`` (run by hand after a deliberate format change).

    PYTHONPATH=. .venv/bin/python tests/documents/vectors/generate_vectors.py

Every input is fixed (salts, key, nonce), so the output is deterministic; ``test_vectors.py``
recomputes each value independently and ``docs/FORMAT.md`` must quote the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

from documents import (
    canonicalize,
    field_hash,
    iter_fields,
    leaf_hash,
    type_id,
)
from documents.canonical import canonicalize_str
from documents.envelope import seal_with
from documents.fields import METADATA_POINTERS, metadata_values
from documents.hashing import keccak256
from documents.merkle import MerkleTree
from documents.qr import build_qr_url

HERE = pathlib.Path(__file__).parent

DOC_TYPE = "example-certificate"
RECORD: dict[str, Any] = {
    "name": "张三",
    "idNumber": "310115199001010018",
    "address": {"city": "示例市", "street": "示例路1号"},
    "hobbies": ["读书", "跑步"],
    "a/b~c": 1.5,
    "empty": {},
}
ISSUER = {
    "department": "0x" + "11" * 32,
    "chainId": 1337,
    "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
VALIDITY = {"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2031-01-01T00:00:00Z"}
OTHER_TARGETS = ["0x" + "aa" * 32, "0x" + "bb" * 32]
KEY = bytes(range(32))
NONCE = bytes(range(0xA0, 0xAC))
SMALL_PLAINTEXT = '{"hello":"ereg/1"}'
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def fixed_salt(pointer: str) -> bytes:
    return keccak256(b"ereg/1 test salt " + pointer.encode("utf-8"))[:16]


def build() -> dict[str, Any]:
    fields = list(iter_fields(RECORD))
    meta = metadata_values(DOC_TYPE, VALIDITY, ISSUER)
    salts = {p: fixed_salt(p).hex() for p, _ in fields}
    salts.update({p: fixed_salt(p).hex() for p in METADATA_POINTERS})
    steps = []
    for pointer, value in [*fields, *meta.items()]:
        salt = bytes.fromhex(salts[pointer])
        steps.append(
            {
                "pointer": pointer,
                "salt": salts[pointer],
                "pointerJcs": canonicalize_str(pointer).decode("utf-8"),
                "valueJcs": canonicalize(value).decode("utf-8"),
                "fieldHash": "0x" + field_hash(salt, pointer, value).hex(),
            }
        )
    hashes = sorted(bytes.fromhex(s["fieldHash"][2:]) for s in steps)
    target = keccak256(b"".join(hashes))
    targets = [target] + [bytes.fromhex(t[2:]) for t in OTHER_TARGETS]
    tree = MerkleTree(targets)
    proof0 = ["0x" + p.hex() for p in tree.proof(0)]
    document = {
        "version": "ereg/1",
        "type": DOC_TYPE,
        "data": RECORD,
        "salts": salts,
        "privacy": {"obfuscated": []},
        "issuer": ISSUER,
        "validity": VALIDITY,
        "proof": {
            "targetHash": "0x" + target.hex(),
            "merkleRoot": "0x" + tree.root.hex(),
            "proof": proof0,
            "anchorTx": None,
            "cid": None,
        },
    }
    doc_bytes = canonicalize(document)
    blob = seal_with(KEY, NONCE, doc_bytes)
    small_blob = seal_with(KEY, NONCE, SMALL_PLAINTEXT.encode("utf-8"))
    hidden_pointer = "/idNumber"
    hidden_hash = next(s["fieldHash"] for s in steps if s["pointer"] == hidden_pointer)
    return {
        "type": DOC_TYPE,
        "typeId": type_id(DOC_TYPE),
        "record": RECORD,
        "issuer": ISSUER,
        "validity": VALIDITY,
        "fields": steps,
        "sortedFieldHashes": ["0x" + h.hex() for h in hashes],
        "targetHash": "0x" + target.hex(),
        "leaf": "0x" + leaf_hash(target).hex(),
        "batch": {
            "targetHashes": ["0x" + t.hex() for t in targets],
            "leaves": ["0x" + tree.leaf(i).hex() for i in range(3)],
            "level1": ["0x" + MerkleTree(targets[:2]).root.hex(), "0x" + tree.leaf(2).hex()],
            "root": "0x" + tree.root.hex(),
            "proofs": [["0x" + p.hex() for p in tree.proof(i)] for i in range(3)],
        },
        "document": document,
        "documentJcs": doc_bytes.decode("utf-8"),
        "documentJcsSha256": hashlib.sha256(doc_bytes).hexdigest(),
        "disclosure": {"hide": [hidden_pointer], "obfuscated": [hidden_hash]},
        "envelope": {
            "key": KEY.hex(),
            "nonce": NONCE.hex(),
            "associatedData": "ereg/1",
            "blob": blob.hex(),
            "blobSha256": hashlib.sha256(blob).hexdigest(),
            "smallPlaintext": SMALL_PLAINTEXT,
            "smallBlob": small_blob.hex(),
        },
        "qr": {
            "baseUrl": "https://verify.example.gov.cn",
            "cid": CID,
            "key": KEY.hex(),
            "url": build_qr_url("https://verify.example.gov.cn", CID, KEY),
        },
    }


if __name__ == "__main__":
    out = HERE / "ereg1.json"
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def render_markdown(v: dict[str, Any]) -> str:
    """The test-vector section of docs/FORMAT.md (between the vectors markers)."""
    lines = [
        f"Type `{v['type']}`, type id `{v['typeId']}`.",
        "",
        "Record (`data`):",
        "",
        "```json",
        json.dumps(v["record"], ensure_ascii=False),
        "```",
        "",
        f"Issuer `{json.dumps(v['issuer'])}`, validity `{json.dumps(v['validity'])}`.",
        "",
        "| pointer | salt | JCS(pointer) | JCS(value) | fieldHash |",
        "|---|---|---|---|---|",
    ]
    for f in v["fields"]:
        value_jcs = f["valueJcs"].replace("|", "\\|")
        lines.append(
            f"| `{f['pointer']}` | `{f['salt']}` | `{f['pointerJcs']}` | `{value_jcs}` "
            f"| `{f['fieldHash']}` |"
        )
    b = v["batch"]
    lines += [
        "",
        "Sorted field hashes:",
        "",
        *[f"- `{x}`" for x in v["sortedFieldHashes"]],
        "",
        f"- targetHash: `{v['targetHash']}`",
        f"- leaf = keccak256(0x00 ‖ targetHash): `{v['leaf']}`",
        "",
        "Batch of three (this document first, then two fixed target hashes):",
        "",
        *[
            f"- targetHash[{i}]: `{t}` → leaf `{lf}`"
            for i, (t, lf) in enumerate(zip(b["targetHashes"], b["leaves"], strict=True))
        ],
        f"- level 1: `{b['level1'][0]}` (node of leaves 0, 1) and `{b['level1'][1]}` "
        "(leaf 2 promoted)",
        f"- root: `{b['root']}`",
        *[
            f"- proof[{i}]: " + (", ".join(f"`{p}`" for p in pr) or "(empty)")
            for i, pr in enumerate(b["proofs"])
        ],
        "",
        f"Wrapped document, canonical bytes (UTF-8), SHA-256 `{v['documentJcsSha256']}`:",
        "",
        "```json",
        v["documentJcs"],
        "```",
        "",
        f"Hiding `{v['disclosure']['hide'][0]}` gives `privacy.obfuscated` = "
        f'`["{v["disclosure"]["obfuscated"][0]}"]`, same targetHash.',
        "",
        "Envelope with fixed key and nonce (never do this in production):",
        "",
        f"- key: `{v['envelope']['key']}`",
        f"- nonce: `{v['envelope']['nonce']}`",
        f"- associated data: `{v['envelope']['associatedData']}`",
        f"- plaintext `{v['envelope']['smallPlaintext']}` → blob `{v['envelope']['smallBlob']}`",
        f"- plaintext = the canonical document above → blob of "
        f"{len(v['envelope']['blob']) // 2} bytes, SHA-256 `{v['envelope']['blobSha256']}` "
        "(full hex in `tests/documents/vectors/ereg1.json`)",
        "",
        f"QR URL for CID `{v['qr']['cid']}`, same key, base `{v['qr']['baseUrl']}`:",
        "",
        f"`{v['qr']['url']}`",
    ]
    return "\n".join(lines)


def update_format_md(v: dict[str, Any]) -> None:
    path = HERE.parents[2] / "docs" / "FORMAT.md"
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- vectors:begin -->\n", "\n<!-- vectors:end -->"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(head + begin + render_markdown(v) + end + tail, encoding="utf-8")


if __name__ == "__main__":
    update_format_md(json.loads((HERE / "ereg1.json").read_text(encoding="utf-8")))
