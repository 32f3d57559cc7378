"""Errors of the chain client: one tree, translated to messages only at the CLI/HTTP edge."""

from __future__ import annotations

from typing import Any


class ChainError(Exception):
    """Root of every error raised by the chain package."""

    code = "CHAIN_ERROR"
    message_zh = "区块链操作失败"


class ChainUnavailable(ChainError):
    """The node could not be reached or did not answer in time."""

    code = "CHAIN_UNAVAILABLE"
    message_zh = "无法连接区块链节点"


class WrongChain(ChainError):
    """The node serves another chain than the configured one."""

    code = "WRONG_CHAIN"
    message_zh = "区块链节点的链标识与配置不符"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the node serves chain id {actual}, configuration expects {expected}")
        self.expected = expected
        self.actual = actual


class RegistryNotFound(ChainError):
    """No registry contract at the configured or recorded address."""

    code = "REGISTRY_NOT_FOUND"
    message_zh = "未找到登记合约"


class TransactionTimeout(ChainError):
    """A sent transaction was not mined in time; it may still be mined later."""

    code = "TRANSACTION_TIMEOUT"
    message_zh = "交易在规定时间内未上链"

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(f"transaction {tx_hash} was not mined within {timeout:.0f} s")
        self.tx_hash = tx_hash


class RpcError(ChainError):
    """The node answered a request with a JSON-RPC error (not a revert)."""

    code = "RPC_ERROR"
    message_zh = "区块链节点拒绝了该请求"

    def __init__(self, message: str, rpc_code: int | None = None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code


class TransactionRejected(RpcError):
    """The node refused the transaction's sender (for example not on a Besu allowlist)."""

    code = "TRANSACTION_REJECTED"
    message_zh = "节点拒绝了该交易"


class ContractRevert(ChainError):
    """A call or transaction reverted; ``name`` and ``arguments`` are the decoded custom error."""

    code = "CONTRACT_REVERT"
    message_zh = "合约拒绝了该操作"

    def __init__(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        data: str | None = None,
        tx_hash: str | None = None,
    ) -> None:
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in (args or {}).items())
        super().__init__(f"{name}({rendered})")
        self.name = name
        self.arguments: dict[str, Any] = dict(args or {})
        self.data = data
        self.tx_hash = tx_hash


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
