"""Verdicts: the overall answer, its fragments, their codes and bilingual messages.

``VALID`` | ``INVALID`` | ``ERROR``. ``ERROR`` means the verifier could not decide (chain or
IPFS unreachable, wrong chain): an outage never reads as a revocation or a forgery.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, Field


class Status(enum.StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class FragmentName(enum.StrEnum):
    CREDENTIAL = "CREDENTIAL"  # a W3C credential's envelope (docs/FORMAT.md §13); only for credentials
    DOCUMENT_INTEGRITY = "DOCUMENT_INTEGRITY"
    DOCUMENT_STATUS = "DOCUMENT_STATUS"
    ISSUER_IDENTITY = "ISSUER_IDENTITY"
    STORAGE = "STORAGE"
    PROPERTY_STATUS = "PROPERTY_STATUS"
    MORTGAGE_STATUS = "MORTGAGE_STATUS"


#: code -> (English, Chinese). Codes are stable API; messages are for people.
MESSAGES: dict[str, tuple[str, str]] = {
    "OK": ("Check passed.", "校验通过。"),
    "SKIPPED": ("Not checked, because an earlier check failed.", "由于前序校验未通过，未进行此项校验。"),
    # CREDENTIAL (a W3C Verifiable Credential, docs/FORMAT.md §13; also CHAIN_UNAVAILABLE)
    "VC_MALFORMED": (
        "The credential is not an ereg Verifiable Credential of a form this service reads.",
        "该凭证不是本服务可识别格式的 ereg 可验证凭证。",
    ),
    "VC_BAD_ISSUER": (
        "The credential's issuer is not a key this service can check (a secp256k1 did:key).",
        "该凭证的签发者不是本服务可核验的密钥（secp256k1 did:key）。",
    ),
    "VC_SIGNATURE_INVALID": (
        "The credential's signature is not its issuer key's: it was changed after signing.",
        "该凭证的签名与签发者密钥不符：凭证在签名后被改动。",
    ),
    "VC_INCONSISTENT": (
        "The credential says something else than the document it carries.",
        "该凭证所载信息与其内含的证照不一致。",
    ),
    "VC_WRONG_ISSUER": (
        "The credential was not signed by a key of the document's department valid at signing.",
        "该凭证并非由证照签发机关在签名时有效的密钥签署。",
    ),
    # DOCUMENT_INTEGRITY
    "MALFORMED": (
        "The document is not a well-formed ereg/1 (or ereg/1-sm) document.",
        "文件不是格式正确的 ereg/1（或 ereg/1-sm）电子证照。",
    ),
    "TAMPERED": ("The document's content was changed after issuance.", "证照内容在签发后被篡改。"),
    "PROOF_MISMATCH": ("The document's proof does not lead to its batch root.", "证照的默克尔证明与批次根不符。"),
    "NOTHING_DISCLOSED": ("The document discloses no field.", "证照未披露任何字段。"),
    "UNDECRYPTABLE": (
        "The stored document cannot be decrypted with the key in the QR code.",
        "无法用二维码中的密钥解密存储的证照。",
    ),
    # DOCUMENT_STATUS
    "NOT_ANCHORED": ("The document was never registered on the chain.", "该证照未在区块链上登记。"),
    "REVOKED": ("The document has been revoked.", "该证照已被撤销。"),
    "SUSPENDED": ("The document is suspended.", "该证照已被暂停使用。"),
    "SUPERSEDED": ("The document was replaced by a newer one.", "该证照已被新证照取代。"),
    "EXPIRED": ("The document's validity has ended.", "该证照已过有效期。"),
    "NOT_YET_VALID": ("The document is not valid yet.", "该证照尚未生效。"),
    "CHAIN_UNAVAILABLE": (
        "The chain cannot be read right now; try again later.",
        "暂时无法读取区块链，请稍后重试。",
    ),
    "WRONG_CHAIN": ("The document belongs to another chain.", "该证照属于其他区块链，本服务无法核验。"),
    "REGISTRY_NOT_FOUND": (
        "The document's registry is not served here, or not found on the chain right now.",
        "该证照所属的登记合约不在本服务的核验范围内，或暂时无法在区块链上找到。",
    ),
    # ISSUER_IDENTITY
    "UNKNOWN_DEPARTMENT": (
        "The document was not issued by the department it names.",
        "该证照并非由其所声称的签发机关签发。",
    ),
    "NOT_AUTHORIZED_FOR_TYPE": (
        "The issuing department did not register this document as this type.",
        "签发机关未以此证照类型登记该证照。",
    ),
    "KEY_NOT_VALID_AT_ISSUANCE": (
        "The signing key was not valid when the document was registered.",
        "登记该证照时所用签名密钥不在有效期内。",
    ),
    # ISSUER_IDENTITY of an ereg/1-sm document (its SM2 signature over the batch root)
    "SM2_SIGNATURE_MISSING": (
        "The document's SM2 signature was not given, so its issuer cannot be checked.",
        "未提供该证照的 SM2 签名，无法核验签发机关。",
    ),
    "SM2_KEY_UNKNOWN": (
        "The document's SM2 key is not registered for the department it names.",
        "该证照的 SM2 签名密钥未登记于其所声称的签发机关。",
    ),
    "SM2_KEY_NOT_VALID_AT_ISSUANCE": (
        "The SM2 key was not valid when the document was registered.",
        "登记该证照时其 SM2 签名密钥不在有效期内。",
    ),
    "SM2_SIGNATURE_INVALID": (
        "The department's SM2 signature does not match the document's batch.",
        "签发机关的 SM2 签名与该证照所属批次不符。",
    ),
    # STORAGE
    "CID_MISMATCH": (
        "The copy stored under this content address is not this document.",
        "该内容地址下存储的副本与本证照不符。",
    ),
    "IPFS_UNAVAILABLE": (
        "The document store cannot be reached right now; try again later.",
        "暂时无法访问证照存储，请稍后重试。",
    ),
    "IPFS_BAD_CONTENT": (
        "The document store served bytes that do not match the content address; try again later.",
        "证照存储返回的内容与内容地址不符，请稍后重试。",
    ),
    # PROPERTY_STATUS (also SUPERSEDED and CHAIN_UNAVAILABLE above)
    "CURRENT": ("This is the current certificate of the property.", "该证书为该不动产的现行有效证书。"),
    "FROZEN": (
        "The property is seized by a court: it cannot be transferred or mortgaged.",
        "该不动产已被法院查封，不得转移或抵押。",
    ),
    "NOT_REGISTERED": (
        "This certificate is not the registered title of any property unit.",
        "该证书未登记为任何不动产单元的权属证书。",
    ),
    "CORRECTED": (
        "The registration was corrected: this certificate is no longer the title of the property.",
        "该不动产已办理更正登记，本证书已不再是其权属证书。",
    ),
    "UNIT_MISMATCH": (
        "The certificate names another property unit than the one it is registered for.",
        "证书所载不动产单元号与其登记的不动产单元不符。",
    ),
    # MORTGAGE_STATUS (also NOT_REGISTERED, UNIT_MISMATCH and CHAIN_UNAVAILABLE)
    "ACTIVE": (
        "The mortgage this certificate evidences is registered and in force.",
        "该证明所载抵押权已登记，现行有效。",
    ),
    "RELEASED": (
        "The mortgage was released: this certificate no longer evidences a mortgage.",
        "该抵押权已注销，本证明不再证明任何抵押权。",
    ),
}

#: Messages of a code that says something else in one fragment: (fragment, code) -> (English, Chinese).
FRAGMENT_MESSAGES: dict[tuple[FragmentName, str], tuple[str, str]] = {
    (FragmentName.MORTGAGE_STATUS, "NOT_REGISTERED"): (
        "This certificate is authentic but registered for no mortgage.",
        "该证明真实，但未登记任何抵押权。",
    ),
}


def message(code: str, name: FragmentName | None = None) -> tuple[str, str]:
    if name is not None:
        special = FRAGMENT_MESSAGES.get((name, code))
        if special is not None:
            return special
    return MESSAGES.get(code, (code, code))


class Fragment(BaseModel):
    name: FragmentName
    status: Status
    code: str
    message: str
    message_zh: str
    details: dict[str, Any] | None = None

    @classmethod
    def of(cls, name: FragmentName, status: Status, code: str, details: dict[str, Any] | None = None) -> Fragment:
        en, zh = message(code, name)
        # built from the service's own values: no validation needed on this hot path
        return cls.model_construct(name=name, status=status, code=code, message=en, message_zh=zh, details=details)


class IssuerInfo(BaseModel):
    department: str
    name: str | None = None
    credit_code: str | None = Field(default=None, alias="creditCode")
    signer: str | None = None

    model_config = {"populate_by_name": True}


class AnchorInfo(BaseModel):
    merkle_root: str = Field(alias="merkleRoot")
    anchored_at: str | None = Field(default=None, alias="anchoredAt")
    block_number: int | None = Field(default=None, alias="blockNumber")
    transaction: str | None = None
    batch_size: int | None = Field(default=None, alias="batchSize")

    model_config = {"populate_by_name": True}


class StatusInfo(BaseModel):
    state: str
    reason: int | None = None
    changed_at: str | None = Field(default=None, alias="changedAt")
    successor: str | None = None

    model_config = {"populate_by_name": True}


class DocumentInfo(BaseModel):
    type: str
    target_hash: str = Field(alias="targetHash")
    valid_from: str = Field(alias="validFrom")
    valid_until: str | None = Field(alias="validUntil")
    disclosed: dict[str, Any]
    hidden_fields: int = Field(alias="hiddenFields")

    model_config = {"populate_by_name": True}


class Verdict(BaseModel):
    verdict: Status
    message: str
    message_zh: str
    fragments: list[Fragment]
    document: DocumentInfo | None = None
    issuer: IssuerInfo | None = None
    anchor: AnchorInfo | None = None
    status: StatusInfo | None = None
    cid: str | None = None
    chain_id: int = Field(alias="chainId")
    checked_at: str = Field(alias="checkedAt")

    model_config = {"populate_by_name": True}


VERDICT_MESSAGES: dict[Status, tuple[str, str]] = {
    Status.VALID: ("Authentic and currently valid.", "证照真实有效。"),
    Status.INVALID: ("Not valid.", "证照无效。"),
    Status.ERROR: ("Cannot check right now.", "暂时无法核验。"),
}


def overall(fragments: list[Fragment]) -> Status:
    """INVALID if any check failed, else ERROR if any could not be decided, else VALID."""
    statuses = {f.status for f in fragments}
    if Status.INVALID in statuses:
        return Status.INVALID
    if Status.ERROR in statuses:
        return Status.ERROR
    return Status.VALID
