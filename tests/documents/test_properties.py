from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import (
    IntegrityCode,
    MerkleTree,
    check_integrity,
    document_to_bytes,
    hide_fields,
    leaf_hash,
    verify_proof,
    wrap_batch,
)
from documents.fields import iter_fields
from documents.model import load_json
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY

keys = st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith("@"))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8)
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=3),
    max_leaves=8,
)
records = st.dictionaries(keys, values, min_size=1, max_size=6).filter(
    lambda r: len(list(iter_fields(r))) >= 1
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _wrap(record: dict[str, Any], batch_size: int = 3) -> dict[str, Any]:
    batch = wrap_batch(
        [record] * batch_size, "example", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False
    )
    # load_json reads integer literals beyond 2**53-1 as doubles, like a JavaScript verifier
    result: dict[str, Any] = load_json(document_to_bytes(batch.documents[-1]))
    return result


@SETTINGS
@given(records, st.data())
def test_any_disclosure_keeps_integrity(record: dict[str, Any], data: st.DataObject) -> None:
    doc_json = _wrap(record)
    result = check_integrity(doc_json)
    assert result.ok, result
    doc = result.document
    assert doc is not None
    pointers = [p for p, _ in iter_fields(doc.data)]
    if len(pointers) < 2:
        return
    hidden = data.draw(st.sets(st.sampled_from(pointers), min_size=1, max_size=len(pointers) - 1))
    disclosed = hide_fields(doc, sorted(hidden))
    assert disclosed.proof.target_hash == doc.proof.target_hash
    after = check_integrity(document_to_bytes(disclosed))
    assert after.code is IntegrityCode.OK, after
    assert len(disclosed.privacy.obfuscated) == len(hidden)


@SETTINGS
@given(records)
def test_nothing_disclosed_rejected(record: dict[str, Any]) -> None:
    doc_json = _wrap(record, 1)
    doc_json["data"] = {}
    doc_json["salts"] = {p: s for p, s in doc_json["salts"].items() if p.startswith("/@")}
    assert check_integrity(doc_json).code is IntegrityCode.NOTHING_DISCLOSED


def _change_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return not value if isinstance(value, bool) else 0
    if isinstance(value, int):
        return value + 1 if value < 2**53 - 1 else value - 1
    if isinstance(value, float):
        return value + 1.0 if abs(value) < 1e15 else value / 2
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, 0]
    return {"x": 1}  # empty object leaf


def _set(obj: dict[str, Any], pointer_keys: list[str], value: Any) -> None:
    for key in pointer_keys[:-1]:
        obj = obj[key]
    obj[pointer_keys[-1]] = value


def _keys_of(data: dict[str, Any], pointer: str) -> list[str]:
    from documents.fields import parse_pointer

    return parse_pointer(pointer)


MUTATIONS = [
    "value",
    "salt",
    "rename",
    "proof",
    "root",
    "validity",
    "type",
    "issuer",
    "obfuscated",
]


@SETTINGS
@given(records, st.sampled_from(MUTATIONS), st.data())
def test_any_single_change_breaks_integrity(
    record: dict[str, Any], mutation: str, data: st.DataObject
) -> None:
    original = _wrap(record)
    assert check_integrity(original).ok
    doc = copy.deepcopy(original)
    pointers = [p for p, _ in iter_fields(doc["data"])]
    pointer = data.draw(st.sampled_from(pointers))
    path = _keys_of(doc["data"], pointer)
    current = dict(iter_fields(doc["data"]))[pointer]
    if mutation == "value":
        _set(doc["data"], path, _change_value(current))
    elif mutation == "salt":
        salt = doc["salts"][pointer]
        doc["salts"][pointer] = ("0" if salt[0] != "0" else "1") + salt[1:]
    elif mutation == "rename":
        parent = doc["data"]
        for key in path[:-1]:
            parent = parent[key]
        new_key = path[-1] + "_"
        if new_key in parent:
            return
        parent[new_key] = parent.pop(path[-1])
        new_pointer = pointer + "_"
        doc["salts"][new_pointer] = doc["salts"].pop(pointer)
    elif mutation == "proof":
        doc["proof"]["proof"][0] = "0x" + os.urandom(32).hex()
    elif mutation == "root":
        doc["proof"]["merkleRoot"] = "0x" + os.urandom(32).hex()
    elif mutation == "validity":
        doc["validity"]["validUntil"] = "2099-12-31T23:59:59Z"
    elif mutation == "type":
        doc["type"] = "example-x"
    elif mutation == "issuer":
        doc["issuer"]["chainId"] = doc["issuer"]["chainId"] + 1
    elif mutation == "obfuscated":
        doc["privacy"]["obfuscated"] = ["0x" + os.urandom(32).hex()]
    result = check_integrity(doc)
    assert result.code in (IntegrityCode.TAMPERED, IntegrityCode.PROOF_MISMATCH), (mutation, result)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=2000), st.data())
def test_merkle_proofs_for_random_batch_sizes(n: int, data: st.DataObject) -> None:
    targets = [os.urandom(32) for _ in range(n)]
    tree = MerkleTree(targets)
    i = data.draw(st.integers(0, n - 1))
    proof = tree.proof(i)
    assert verify_proof(leaf_hash(targets[i]), proof, tree.root)
    assert not verify_proof(leaf_hash(os.urandom(32)), proof, tree.root)
    if n > 1:
        j = data.draw(st.integers(0, n - 1).filter(lambda x: x != i))
        assert not verify_proof(leaf_hash(targets[j]), proof, tree.root)
