"""Selective disclosure (脱敏).

Hiding a field removes its value from ``data`` and its salt from ``salts`` and adds its
field hash to ``privacy.obfuscated`` (kept sorted, without duplicates). The target hash is
unchanged. Rules:

* a pointer names either one field or an object subtree (``/owner`` hides every field below
  ``/owner``); anything else (unknown pointer, an array element, an already hidden field)
  is ``NOT_A_FIELD``;
* metadata (``/@type``, ``/@validity``, ``/@issuer``) can never be hidden;
* objects left empty by hiding are removed, so ``data`` never gains a spurious ``{}`` field;
* at least one data field must stay disclosed (``NOTHING_DISCLOSED``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .canonical import escape_token
from .errors import DisclosureError, MalformedDocument
from .fields import field_hash, iter_fields, parse_pointer
from .hashing import hex32
from .model import Privacy, WrappedDocument
from .suite import suite_of

__all__ = ["disclosed_fields", "hide_fields"]


def disclosed_fields(doc: WrappedDocument) -> dict[str, Any]:
    """Disclosed data fields as ``pointer -> value``, in document order (for display)."""
    return dict(iter_fields(doc.data))


def _without(obj: Mapping[str, Any], prefix: str, hidden: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        pointer = prefix + "/" + escape_token(key)
        if pointer in hidden:
            continue
        if isinstance(value, dict) and value:
            child = _without(value, pointer, hidden)
            if child:
                out[key] = child
        else:
            out[key] = value
    return out


def _resolve(pointer: str, fields: Mapping[str, Any]) -> list[str]:
    try:
        tokens = parse_pointer(pointer)
    except ValueError:
        tokens = []
    if tokens and tokens[0].startswith("@"):
        raise DisclosureError(
            f"metadata {pointer} cannot be hidden",
            f"元数据 {pointer} 不可隐藏",
            code="METADATA_NOT_HIDEABLE",
            pointer=pointer,
        )
    matched = [f for f in fields if f == pointer or f.startswith(pointer + "/")] if tokens else []
    if not matched:
        raise DisclosureError(
            f"{pointer!r} is not a disclosed field or object of this document",
            f"{pointer!r} 不是本文书中已披露的字段或对象",
            code="NOT_A_FIELD",
            pointer=pointer,
        )
    return matched


def hide_fields(doc: WrappedDocument, pointers: Iterable[str]) -> WrappedDocument:
    """Return a copy of ``doc`` with the given fields (or object subtrees) hidden."""
    fields = dict(iter_fields(doc.data))
    hidden: set[str] = set()
    for pointer in pointers:
        hidden.update(_resolve(pointer, fields))
    if len(hidden) == len(fields):
        raise DisclosureError(
            "hiding these fields would leave nothing disclosed",
            "隐藏这些字段后将没有任何披露内容",
            code="NOTHING_DISCLOSED",
        )
    new_hashes: list[str] = []
    suite = suite_of(doc.version)
    for pointer in hidden:
        salt_hex = doc.salts.get(pointer)
        if salt_hex is None:
            raise MalformedDocument(
                "/salts/" + escape_token(pointer), "field has no salt", "字段缺少盐值"
            )
        new_hashes.append(hex32(field_hash(bytes.fromhex(salt_hex), pointer, fields[pointer], suite)))
    obfuscated = sorted(set(doc.privacy.obfuscated).union(new_hashes))
    return doc.model_copy(
        update={
            "data": _without(doc.data, "", hidden),
            "salts": {p: s for p, s in doc.salts.items() if p not in hidden},
            "privacy": Privacy.model_construct(obfuscated=obfuscated),
        }
    )
