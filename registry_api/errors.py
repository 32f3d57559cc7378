"""Refusals of the relay, each with an HTTP status, a stable code and messages in English and Chinese."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class RelayError(Exception):
    """A request the relay refuses; turned into ``{"error": {...}}`` only at the HTTP edge."""

    def __init__(self, status_code: int, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.message_zh = message_zh

    def at(self, index: int) -> RelayError:
        """The same refusal, naming the item of the request list it concerns."""
        return RelayError(
            self.status_code, self.code, f"item {index}: {self.message}", f"第 {index} 项：{self.message_zh}"
        )


def bad_signature(detail: str) -> RelayError:
    return RelayError(401, "BAD_SIGNATURE", f"the signature cannot be verified: {detail}", "签名无法验证")


def unknown_key(signer: str) -> RelayError:
    return RelayError(
        401,
        "UNKNOWN_KEY",
        f"the signature recovers to {signer}, which is no registered department key",
        "签名密钥未登记",
    )


def wrong_chain(detail: str) -> RelayError:
    return RelayError(
        403,
        "WRONG_CHAIN",
        f"the request was signed for another chain or registry: {detail}",
        "签名所属的链或登记合约与本服务不符",
    )


def expired(deadline: int, now: int, margin: int) -> RelayError:
    return RelayError(
        401,
        "EXPIRED",
        f"the signature's deadline {deadline} is past or within {margin} s of the chain time {now}",
        "签名已过期或即将过期",
    )


def key_not_valid(signer: str, valid_from: int, valid_until: int, now: int) -> RelayError:
    return RelayError(
        403,
        "KEY_NOT_VALID",
        f"key {signer} is valid from {valid_from} until {valid_until or 'open-ended'}, not at {now}",
        "签名密钥不在有效期内",
    )


def not_authorized(detail: str) -> RelayError:
    return RelayError(403, "NOT_AUTHORIZED", f"the department may not do this: {detail}", "该部门无权进行此操作")


def nonce_used(signer: str, nonce: int) -> RelayError:
    return RelayError(409, "NONCE_USED", f"key {signer} has used nonce {nonce} already", "该签名序号已被使用")


def already_anchored(root: str) -> RelayError:
    return RelayError(409, "ALREADY_ANCHORED", f"root {root} is anchored already", "该批次根哈希已上链")


def already_queued(root: str, existing: int) -> RelayError:
    return RelayError(
        409,
        "ALREADY_QUEUED",
        f"request {existing} already carries {root} with another signature",
        "该批次已有待上链请求",
    )


def unknown_root(root: str) -> RelayError:
    return RelayError(422, "UNKNOWN_ROOT", f"root {root} is not anchored", "该批次根哈希未上链")


def rejected_by_contract(code: str, detail: str) -> RelayError:
    return RelayError(422, code, f"the registry would refuse this change: {detail}", "登记合约将拒绝该状态变更")


def chain_unavailable() -> RelayError:
    return RelayError(
        503,
        "CHAIN_UNAVAILABLE",
        "the chain cannot be reached; nothing was stored, try again",
        "暂时无法连接区块链，请求未保存，请重试",
    )


class ErrorDetail(BaseModel):
    code: str
    message: str
    message_zh: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_body(code: str, message: str, message_zh: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "message_zh": message_zh}}
