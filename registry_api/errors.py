"""Refusals of the relay, each with an HTTP status, a stable code and messages in English and Chinese.

:class:`RelayError` is the kit's :class:`~httpkit.errors.HttpError` (so the project's one
tree, below :class:`~common.errors.EregError`), answered by the kit's one handler; the error
body's models are the kit's too, re-exported here for the routes that name them.
"""

from __future__ import annotations

from collections.abc import Mapping

from httpkit.errors import ErrorBody, ErrorDetail, HttpError, error_body

__all__ = ["ErrorBody", "ErrorDetail", "RelayError", "error_body"]


class RelayError(HttpError):
    """A request the relay refuses; turned into ``{"error": {...}}`` only at the HTTP edge."""

    code = "RELAY_REFUSED"
    message_zh = "中继服务拒绝了该请求"

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        message_zh: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, code, message, message_zh, headers=headers)

    def at(self, index: int) -> RelayError:
        """The same refusal, naming the item of the request list it concerns."""
        return RelayError(
            self.status_code,
            self.code,
            f"item {index}: {self.message}",
            f"第 {index} 项：{self.message_zh}",
            headers=self.headers,
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


def already_anchored(root: str, department: bytes) -> RelayError:
    return RelayError(
        409,
        "ALREADY_ANCHORED",
        f"root {root} is anchored already by department 0x{department.hex()}",
        "本部门已将该批次根哈希上链",
    )


def already_queued(root: str, existing: str) -> RelayError:
    """Only a key of the same department reaches this (the conflict is per department): the
    request id it names is its own department's."""
    return RelayError(
        409,
        "ALREADY_QUEUED",
        f"request {existing} already carries {root} with another signature",
        "该批次已有待上链请求",
    )


def unknown_root(root: str, department: bytes) -> RelayError:
    """The department has no record of ``root`` (another department's anchor of it is not its own)."""
    return RelayError(
        422,
        "UNKNOWN_ROOT",
        f"root {root} is not anchored by department 0x{department.hex()} (nor queued for it); a root "
        "anchored by another department is that department's record",
        "本部门未将该批次根哈希上链（其他部门上链的同一根哈希属于该部门的记录）",
    )


def title_locked(root: str, target: str, detail: str) -> RelayError:
    what = f"batch {root} holds" if int(target, 16) == 0 else f"document {target} of batch {root} is"
    return RelayError(
        409,
        "TITLE_LOCKED",
        f"{what} a unit's current title certificate or an active mortgage's certificate: it changes only"
        f" through the property workflow (a correction case): {detail}",
        "该证书为不动产现行权属证书或有效抵押的证明，只能通过不动产登记流程（如更正登记）变更",
    )


def rejected_by_contract(code: str, detail: str) -> RelayError:
    return RelayError(422, code, f"the registry would refuse this change: {detail}", "登记合约将拒绝该状态变更")


def chain_unavailable() -> RelayError:
    return RelayError(
        503,
        "CHAIN_UNAVAILABLE",
        "the chain cannot be reached; nothing was stored, try again",
        "暂时无法连接区块链，请求未保存，请重试",
    )
