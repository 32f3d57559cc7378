"""Regenerate ``ereg1-sm.json``, the ``ereg/1-sm`` suite's vectors (by hand, after a deliberate change).

    PYTHONPATH=. .venv/bin/python tests/documents/vectors/generate_sm_vectors.py

The record, issuer, validity and batch are those of ``ereg1.json``; the hashes are SM3, the
envelope SM4-GCM under a 16-byte key, and the batch root carries an SM2 signature made with a
fixed key and a fixed ``k`` (so the output is deterministic). ``test_sm_vectors.py`` recomputes
every value independently and ``docs/FORMAT.md`` must quote the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys
from typing import Any

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate_vectors import (  # noqa: E402
    CID,
    DOC_TYPE,
    ISSUER,
    OTHER_TARGETS,
    RECORD,
    SMALL_PLAINTEXT,
    VALIDITY,
)

from documents import canonicalize, field_hash, iter_fields, leaf_hash, type_id  # noqa: E402
from documents.canonical import canonicalize_str  # noqa: E402
from documents.envelope import seal_with  # noqa: E402
from documents.fields import METADATA_POINTERS, metadata_values  # noqa: E402
from documents.merkle import MerkleTree  # noqa: E402
from documents.qr import build_qr_url  # noqa: E402
from documents.sm2 import N, Sm2PrivateKey, sign  # noqa: E402
from documents.sm3 import sm3  # noqa: E402
from documents.suite import SUITE_SM, root_message  # noqa: E402

KEY = bytes(range(16))
NONCE = bytes(range(0xA0, 0xAC))
SM2_D = int.from_bytes(sm3(b"ereg/1-sm test signing key"), "big") % N
SM2_K = int.from_bytes(sm3(b"ereg/1-sm test nonce k"), "big") % N


def fixed_salt(pointer: str) -> bytes:
    return sm3(b"ereg/1-sm test salt " + pointer.encode("utf-8"))[:16]


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
                "fieldHash": "0x" + field_hash(salt, pointer, value, SUITE_SM).hex(),
            }
        )
    hashes = sorted(bytes.fromhex(s["fieldHash"][2:]) for s in steps)
    target = sm3(b"".join(hashes))
    targets = [target] + [bytes.fromhex(t[2:]) for t in OTHER_TARGETS]
    tree = MerkleTree(targets, SUITE_SM)
    signer = Sm2PrivateKey(SM2_D)
    message = root_message(
        ISSUER["chainId"], ISSUER["registry"], bytes.fromhex(ISSUER["department"][2:]), tree.root
    )
    signature = sign(signer, message, k=SM2_K)
    document = {
        "version": "ereg/1-sm",
        "type": DOC_TYPE,
        "data": RECORD,
        "salts": salts,
        "privacy": {"obfuscated": []},
        "issuer": ISSUER,
        "validity": VALIDITY,
        "proof": {
            "targetHash": "0x" + target.hex(),
            "merkleRoot": "0x" + tree.root.hex(),
            "proof": ["0x" + p.hex() for p in tree.proof(0)],
            "anchorTx": None,
            "cid": None,
            "signature": {"alg": "SM2", "key": signer.public_key.hex(), "value": "0x" + signature.hex()},
        },
    }
    doc_bytes = canonicalize(document)
    blob = seal_with(KEY, NONCE, doc_bytes)
    small_blob = seal_with(KEY, NONCE, SMALL_PLAINTEXT.encode("utf-8"))
    hidden_pointer = "/idNumber"
    hidden_hash = next(s["fieldHash"] for s in steps if s["pointer"] == hidden_pointer)
    return {
        "suite": "ereg/1-sm",
        "type": DOC_TYPE,
        "typeId": type_id(DOC_TYPE),
        "record": RECORD,
        "issuer": ISSUER,
        "validity": VALIDITY,
        "fields": steps,
        "sortedFieldHashes": ["0x" + h.hex() for h in hashes],
        "targetHash": "0x" + target.hex(),
        "leaf": "0x" + leaf_hash(target, SUITE_SM).hex(),
        "batch": {
            "targetHashes": ["0x" + t.hex() for t in targets],
            "leaves": ["0x" + tree.leaf(i).hex() for i in range(3)],
            "level1": ["0x" + MerkleTree(targets[:2], SUITE_SM).root.hex(), "0x" + tree.leaf(2).hex()],
            "root": "0x" + tree.root.hex(),
            "proofs": [["0x" + p.hex() for p in tree.proof(i)] for i in range(3)],
        },
        "signature": {
            "privateKey": f"{SM2_D:064x}",
            "publicKey": signer.public_key.hex(),
            "userId": "1234567812345678",
            "k": f"{SM2_K:064x}",
            "message": message.hex(),
            "value": "0x" + signature.hex(),
        },
        "document": document,
        "documentJcs": doc_bytes.decode("utf-8"),
        "documentJcsSha256": hashlib.sha256(doc_bytes).hexdigest(),
        "disclosure": {"hide": [hidden_pointer], "obfuscated": [hidden_hash]},
        "envelope": {
            "key": KEY.hex(),
            "nonce": NONCE.hex(),
            "associatedData": "ereg/1-sm",
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


def render_markdown(v: dict[str, Any]) -> str:
    """The ``ereg/1-sm`` vector section of docs/FORMAT.md (between the sm-vectors markers)."""
    b = v["batch"]
    s = v["signature"]
    lines = [
        "The record, issuer, validity and batch of §11, with fixed salts "
        "`SM3(\"ereg/1-sm test salt \" ‖ pointer)[:16]`:",
        "",
        "| pointer | salt | fieldHash (SM3) |",
        "|---|---|---|",
        *[f"| `{f['pointer']}` | `{f['salt']}` | `{f['fieldHash']}` |" for f in v["fields"]],
        "",
        f"- targetHash = SM3(sorted field hashes): `{v['targetHash']}`",
        f"- leaf = SM3(0x00 ‖ targetHash): `{v['leaf']}`",
        *[
            f"- leaf[{i}] of targetHash `{t}`: `{lf}`"
            for i, (t, lf) in enumerate(zip(b["targetHashes"], b["leaves"], strict=True))
            if i
        ],
        f"- level 1: `{b['level1'][0]}`, `{b['level1'][1]}` (promoted)",
        f"- root: `{b['root']}`",
        "- proof[0]: " + ", ".join(f"`{p}`" for p in b["proofs"][0]),
        "",
        "SM2 signature of the root (fixed private key and k — never do this in production):",
        "",
        f"- private key d: `{s['privateKey']}`",
        f"- public key x ‖ y: `{s['publicKey']}`",
        f"- user id: `{s['userId']}`; k: `{s['k']}`",
        f"- message (root_message): `{s['message']}`",
        f"- signature r ‖ s: `{s['value']}`",
        "",
        f"Wrapped document, canonical bytes (UTF-8), SHA-256 `{v['documentJcsSha256']}`:",
        "",
        "```json",
        v["documentJcs"],
        "```",
        "",
        "SM4-GCM envelope with fixed key and nonce:",
        "",
        f"- key (16 bytes): `{v['envelope']['key']}`; nonce: `{v['envelope']['nonce']}`; "
        f"associated data: `{v['envelope']['associatedData']}`",
        f"- plaintext `{v['envelope']['smallPlaintext']}` → blob `{v['envelope']['smallBlob']}`",
        f"- plaintext = the canonical document above → blob of {len(v['envelope']['blob']) // 2} "
        f"bytes, SHA-256 `{v['envelope']['blobSha256']}` (full hex in `tests/documents/vectors/ereg1-sm.json`)",
        f"- QR URL: `{v['qr']['url']}`",
    ]
    return "\n".join(lines)


def update_format_md(v: dict[str, Any]) -> None:
    path = HERE.parents[2] / "docs" / "FORMAT.md"
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- sm-vectors:begin -->\n", "\n<!-- sm-vectors:end -->"
    head, found, rest = text.partition(begin)
    if not found:
        raise SystemExit("docs/FORMAT.md has no sm-vectors markers")
    _, _, tail = rest.partition(end)
    path.write_text(head + begin + render_markdown(v) + end + tail, encoding="utf-8")


if __name__ == "__main__":
    vectors = build()
    (HERE / "ereg1-sm.json").write_text(json.dumps(vectors, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    update_format_md(vectors)
