"""ereg/1 documents as W3C Verifiable Credentials 2.0, secured with VC-JOSE-COSE (docs/FORMAT.md §13).

A credential is the document seen through the VC data model: the disclosed ``data`` is the
``credentialSubject``, the validity window is ``validFrom``/``validUntil``, the issuer is the
department's signing key as a ``did:key`` (with the department id beside it), the status is an
``EregRegistryStatus`` naming the record on chain, and ``eregProof`` carries every other member of
the wrapped document (salts, hidden field hashes, the Merkle proof), so that the document can be
rebuilt from the credential byte for byte and checked on chain exactly as the document would be.

The credential is secured as a compact JWS (``typ: vc+jwt``, ES256K over secp256k1, the curve of
the department keys) whose payload is the credential itself; any JOSE library checks it with the
public key the ``kid``'s did:key encodes. Nothing here needs a network: the two JSON-LD contexts
are shipped (:func:`context_document`).

Pure computation, like the rest of the package; keys are given as bytes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import time
from functools import cache
from importlib import resources
from typing import Any

import coincurve
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from multiformats import multibase, multicodec

from .errors import DocumentError, MalformedDocument, UnknownDocumentType
from .hashing import keccak256, to_checksum_address
from .model import WrappedDocument, document_from_obj, document_to_dict, load_json
from .schemas import load_schema

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
EREG_CONTEXT = "https://ereg.example/credentials/v1"
CREDENTIAL_TYPE = "EregCredential"
STATUS_TYPE = "EregRegistryStatus"
ENVELOPED_TYPE = "EnvelopedVerifiableCredential"
JWT_MEDIA_TYPE = "application/vc+jwt"
ALGORITHM = "ES256K"

#: context URL -> the shipped file (documents/contexts/NOTICE.md says where each comes from)
CONTEXT_FILES: dict[str, str] = {
    VC_V2_CONTEXT: "credentials-v2.jsonld",
    EREG_CONTEXT: "ereg-v1.jsonld",
}

#: keys JSON-LD gives a meaning of its own: a data field named so would not mean itself in the credential
_RESERVED_KEYS = frozenset({"id", "type"})
#: the members of a credential, exactly (anything else is refused when reading one)
_CREDENTIAL_MEMBERS = frozenset(
    {
        "@context",
        "type",
        "name",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "credentialStatus",
        "eregProof",
        "relatedResource",
        "iat",
    }
)
_DID_KEY = "did:key:z"
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MAX_TOKEN = 1 << 20
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class CredentialError(DocumentError):
    """A credential that cannot be made or read: the ``code`` says which rule it breaks."""

    default_code = "VC_MALFORMED"


# --------------------------------------------------------------------------- contexts
@cache
def _context_bytes(url: str) -> bytes:
    name = CONTEXT_FILES[url]
    return resources.files("documents").joinpath("contexts", name).read_bytes()


def context_document(url: str) -> dict[str, Any]:
    """The shipped JSON-LD context for ``url`` (KeyError for any other URL: no network fetch)."""
    parsed: dict[str, Any] = json.loads(_context_bytes(url))
    return parsed


def context_bytes(url: str) -> bytes:
    """The shipped context's bytes, as served by the verifier and pinned by ``relatedResource``."""
    return _context_bytes(url)


def _digest_sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


# ---------------------------------------------------------------------------- did:key
def _private_key(private_key: bytes) -> coincurve.PrivateKey:
    if len(private_key) != 32:
        raise ValueError("a secp256k1 private key is 32 bytes")
    return coincurve.PrivateKey(private_key)


def did_key(public_key: coincurve.PublicKey) -> str:
    """The did:key of a secp256k1 public key: multicodec 0xe7 and the compressed point, base58btc."""
    return "did:key:" + multibase.encode(
        multicodec.wrap("secp256k1-pub", public_key.format(compressed=True)), "base58btc"
    )


def did_key_of_private(private_key: bytes) -> str:
    return did_key(_private_key(private_key).public_key)


def resolve_did_key(did: str) -> coincurve.PublicKey:
    """The public key a secp256k1 did:key names; any other DID is ``VC_BAD_ISSUER``."""
    bad = CredentialError(
        "the issuer is not a secp256k1 did:key", "签发者不是 secp256k1 的 did:key", code="VC_BAD_ISSUER"
    )
    if not isinstance(did, str) or not did.startswith(_DID_KEY) or len(did) > 128:
        raise bad
    try:
        codec, point = multicodec.unwrap(multibase.decode(did[len("did:key:") :]))
        if codec.name != "secp256k1-pub" or len(point) != 33:
            raise bad
        return coincurve.PublicKey(point)  # checks that the point is on the curve
    except (ValueError, KeyError):
        raise bad from None


def address_of(public_key: coincurve.PublicKey) -> str:
    """The EVM address of a public key (EIP-55), to find the key among the department's signer keys."""
    return to_checksum_address("0x" + keccak256(public_key.format(compressed=False)[1:])[-20:].hex())


# -------------------------------------------------------------------------------- JWS
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise CredentialError("the credential is not a compact JWS", "凭证不是紧凑格式的 JWS")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CredentialError("the credential is not a compact JWS", "凭证不是紧凑格式的 JWS") from None
    if _b64(data) != text:  # non-canonical trailing bits: one credential, one encoding
        raise CredentialError("the credential is not a compact JWS", "凭证不是紧凑格式的 JWS")
    return data


def _json_part(text: str) -> dict[str, Any]:
    try:
        value = load_json(_unb64(text))  # the documents' own strict reader: one number semantics
    except MalformedDocument:
        raise CredentialError("the credential's header or payload is not JSON", "凭证的头部或载荷不是 JSON") from None
    if not isinstance(value, dict):
        raise CredentialError("the credential's header or payload is not an object", "凭证的头部或载荷不是对象")
    return value


def sign_credential(credential: dict[str, Any], private_key: bytes) -> str:
    """The credential as a compact JWS: ES256K by ``private_key``, ``kid`` its did:key verification method.

    libsecp256k1 signs with RFC 6979 nonces (no random source at signing; reproducible vectors)
    and low S, the form strict verifiers insist on.
    """
    key = _private_key(private_key)
    issuer = did_key(key.public_key)
    header = {"alg": ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": f"{issuer}#{issuer[len('did:key:') :]}"}
    signing_input = _b64(_compact(header)) + "." + _b64(_compact(credential))
    recoverable = key.sign_recoverable(hashlib.sha256(signing_input.encode()).digest(), hasher=None)
    return signing_input + "." + _b64(recoverable[:64])


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class SignedCredential:
    """A compact JWS whose signature checked out: its header, its credential and the key's DID."""

    def __init__(self, header: dict[str, Any], credential: dict[str, Any], signer: str) -> None:
        self.header = header
        self.credential = credential
        self.signer = signer

    @property
    def signer_address(self) -> str:
        return address_of(resolve_did_key(self.signer))


def open_credential(token: str) -> SignedCredential:
    """Check a compact JWS's form and ES256K signature; the payload is returned as the credential.

    Raises :class:`CredentialError` with ``VC_MALFORMED`` (not a JWS of this profile) or
    ``VC_SIGNATURE_INVALID`` (the signature is not the ``kid`` key's).
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise CredentialError("the credential is not a compact JWS", "凭证不是紧凑格式的 JWS")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("the credential is not a compact JWS", "凭证不是紧凑格式的 JWS")
    header = _json_part(parts[0])
    payload = _json_part(parts[1])
    if header.get("alg") != ALGORITHM or header.get("typ") != "vc+jwt" or "crit" in header:
        raise CredentialError(
            "the credential is not an ES256K vc+jwt", "凭证不是 ES256K 签名的 vc+jwt", code="VC_MALFORMED"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or "#" not in kid:
        raise CredentialError("the credential names no key (kid)", "凭证未指明签名密钥（kid）", code="VC_BAD_ISSUER")
    did, fragment = kid.split("#", 1)
    if fragment != did[len("did:key:") :]:
        raise CredentialError(
            "the kid is not the did:key's own key", "kid 不是该 did:key 自身的密钥", code="VC_BAD_ISSUER"
        )
    public_key = resolve_did_key(did)
    signature = _unb64(parts[2])
    if len(signature) != 64:
        raise CredentialError("the signature is not 64 bytes", "签名长度不是 64 字节", code="VC_SIGNATURE_INVALID")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    # any JOSE library may have signed (high S is valid ES256K); libsecp256k1 checks the low-S twin
    s = min(s, _CURVE_ORDER - s)
    valid = (
        0 < r < _CURVE_ORDER
        and s > 0
        and public_key.verify(encode_dss_signature(r, s), (parts[0] + "." + parts[1]).encode(), hasher=_sha256)
    )
    if not valid:
        raise CredentialError(
            "the credential's signature is not its issuer key's",
            "凭证签名与签发者密钥不符",
            code="VC_SIGNATURE_INVALID",
        )
    return SignedCredential(header, payload, did)


def envelope(token: str) -> dict[str, Any]:
    """The JWS as VC 2.0's EnvelopedVerifiableCredential, the JSON form wallets and APIs exchange."""
    return {"@context": VC_V2_CONTEXT, "id": f"data:{JWT_MEDIA_TYPE},{token}", "type": ENVELOPED_TYPE}


def is_enveloped(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") == ENVELOPED_TYPE


def unenvelope(obj: Any) -> str:
    """The compact JWS inside an EnvelopedVerifiableCredential."""
    prefix = f"data:{JWT_MEDIA_TYPE},"
    ident = obj.get("id") if isinstance(obj, dict) else None
    if (
        not is_enveloped(obj)
        or set(obj) - {"@context", "id", "type"}
        or obj.get("@context") not in (VC_V2_CONTEXT, [VC_V2_CONTEXT])
        or not isinstance(ident, str)
        or not ident.startswith(prefix)
    ):
        raise CredentialError(
            f"not an EnvelopedVerifiableCredential with a {JWT_MEDIA_TYPE} data URL",
            f"不是内含 {JWT_MEDIA_TYPE} 数据 URL 的 EnvelopedVerifiableCredential",
        )
    return ident[len(prefix) :]


# ------------------------------------------------------------------- document <-> VC
def _check_keys(value: Any, pointer: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _RESERVED_KEYS or key.startswith("@") or ":" in key:
                raise CredentialError(
                    f"{pointer}/{key}: a field of this name cannot be a credential claim (JSON-LD reserves it)",
                    f"{pointer}/{key}：该字段名为 JSON-LD 保留，不能作为凭证声明",
                    code="VC_FIELD_RESERVED",
                )
            _check_keys(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_keys(item, f"{pointer}/{index}")


def to_credential(doc: WrappedDocument, *, issued_at: int | None = None, issuer_did: str) -> dict[str, Any]:
    """The credential of an issued or disclosed document, before it is signed.

    ``issuer_did`` is the did:key of the department key that will sign it; ``issued_at`` (seconds)
    becomes ``iat``, the time the verifier checks that key's window against.
    """
    wrapped = copy.deepcopy(document_to_dict(doc))  # the credential is the caller's to change, not the document
    data = wrapped.pop("data")
    _check_keys(data, "")
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT, EREG_CONTEXT],
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
    }
    title = _name_of(doc.type)
    if title is not _NO_NAME:
        credential["name"] = title
    credential["issuer"] = {"id": issuer_did, "department": doc.issuer.department}
    credential["validFrom"] = doc.validity.valid_from
    if doc.validity.valid_until is not None:
        credential["validUntil"] = doc.validity.valid_until
    credential["credentialSubject"] = data
    credential["credentialStatus"] = _status_of(wrapped)
    credential["eregProof"] = wrapped
    credential["relatedResource"] = [{"id": EREG_CONTEXT, "digestSRI": _digest_sri(context_bytes(EREG_CONTEXT))}]
    credential["iat"] = int(time.time()) if issued_at is None else issued_at
    return credential


_NO_NAME = object()


def _name_of(doc_type: str) -> object:
    """The credential's ``name``: the type schema's title; none for a type without a bundled schema."""
    try:
        title = load_schema(doc_type).get("title")
    except UnknownDocumentType:
        return _NO_NAME
    return title if isinstance(title, str) else _NO_NAME


def _status_of(wrapped: dict[str, Any]) -> dict[str, Any]:
    issuer, proof = wrapped["issuer"], wrapped["proof"]
    return {
        "type": STATUS_TYPE,
        "chainId": issuer["chainId"],
        "registry": issuer["registry"],
        "department": issuer["department"],
        "merkleRoot": proof["merkleRoot"],
        "targetHash": proof["targetHash"],
    }


def export_credential(doc: WrappedDocument, private_key: bytes, *, issued_at: int | None = None) -> str:
    """``to_credential`` signed by the department key: the compact JWS."""
    credential = to_credential(doc, issued_at=issued_at, issuer_did=did_key_of_private(private_key))
    return sign_credential(credential, private_key)


def _inconsistent(what: str, what_zh: str) -> CredentialError:
    return CredentialError(
        f"the credential's {what} does not match its ereg proof",
        f"凭证的{what_zh}与其 ereg 证明不符",
        code="VC_INCONSISTENT",
    )


def document_of(credential: dict[str, Any]) -> WrappedDocument:
    """The ereg/1 document a credential carries, rebuilt from ``credentialSubject`` and ``eregProof``.

    The members the VC data model repeats (issuer department, validity, status) must say what the
    proof says (``VC_INCONSISTENT``); the rebuilt document is then checked like any document, so a
    changed claim is a TAMPERED document.
    """
    extra = set(credential) - _CREDENTIAL_MEMBERS
    if extra:
        raise CredentialError(f"unknown credential member {sorted(extra)[0]!r}", f"未知的凭证成员 {sorted(extra)[0]!r}")
    if credential.get("@context") != [VC_V2_CONTEXT, EREG_CONTEXT]:
        raise CredentialError("the credential's @context is not ereg's", "凭证的 @context 不是 ereg 的")
    if credential.get("type") != ["VerifiableCredential", CREDENTIAL_TYPE]:
        raise CredentialError("the credential is not an EregCredential", "凭证不是 EregCredential")
    wrapped = credential.get("eregProof")
    subject = credential.get("credentialSubject")
    issuer = credential.get("issuer")
    if not isinstance(wrapped, dict) or "data" in wrapped or not isinstance(subject, dict):
        raise CredentialError("the credential carries no ereg proof", "凭证未携带 ereg 证明")
    if not isinstance(issuer, dict) or set(issuer) != {"id", "department"}:
        raise CredentialError("the credential's issuer is not a department key", "凭证的签发者不是签发机关密钥")
    doc = document_from_obj({**wrapped, "data": subject})
    if issuer["department"] != doc.issuer.department:
        raise _inconsistent("issuer department", "签发机关")
    if (
        credential.get("validFrom") != doc.validity.valid_from
        or credential.get("validUntil") != doc.validity.valid_until
    ):
        raise _inconsistent("validity", "有效期")
    if credential.get("credentialStatus") != _status_of(document_to_dict(doc)):
        raise _inconsistent("credentialStatus", "状态信息")
    if credential.get("name", _NO_NAME) != _name_of(doc.type):
        raise _inconsistent("name", "名称")
    return doc


def read_credential(token: str) -> tuple[SignedCredential, WrappedDocument]:
    """:func:`open_credential`, then :func:`document_of`; the issuer must be the key that signed."""
    signed = open_credential(token)
    doc = document_of(signed.credential)
    if signed.credential["issuer"]["id"] != signed.signer:
        raise _inconsistent("issuer", "签发者")
    return signed, doc


__all__ = [
    "ALGORITHM",
    "CONTEXT_FILES",
    "CREDENTIAL_TYPE",
    "EREG_CONTEXT",
    "JWT_MEDIA_TYPE",
    "STATUS_TYPE",
    "VC_V2_CONTEXT",
    "CredentialError",
    "SignedCredential",
    "address_of",
    "context_bytes",
    "context_document",
    "did_key",
    "did_key_of_private",
    "document_of",
    "envelope",
    "export_credential",
    "is_enveloped",
    "open_credential",
    "read_credential",
    "resolve_did_key",
    "sign_credential",
    "to_credential",
    "unenvelope",
]
