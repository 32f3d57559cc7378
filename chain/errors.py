"""Errors of the chain client: one tree below the project's root, translated only at the edges.

``http_status`` is what a service answers when one of these reaches its edge unhandled: the
chain is the service's backend, so a node that is down, on another chain or without the
registry is 503 (the service is not ready), a node that answered wrongly 502, a transaction
not mined in time 504. A revert is the contract refusing the operation in the state it is
in (409); the services map the reverts they expect to their own codes before that.

::

    EregError
     └── ChainError              502  CHAIN_ERROR
          ├── ChainUnavailable   503  CHAIN_UNAVAILABLE
          ├── WrongChain         503  WRONG_CHAIN
          ├── WrongGenesis       503  WRONG_GENESIS
          ├── RegistryNotFound   503  REGISTRY_NOT_FOUND
          ├── TransactionTimeout 504  TRANSACTION_TIMEOUT
          ├── RpcError           502  RPC_ERROR
          │    └── TransactionRejected  TRANSACTION_REJECTED
          ├── ContractRevert     409  CONTRACT_REVERT
          └── CompileError       500  COMPILE_ERROR  (chain.compiler, build time)
"""

from __future__ import annotations

from typing import Any

from common.errors import EregError


class ChainError(EregError):
    """Root of every error raised by the chain package."""

    code = "CHAIN_ERROR"
    message_zh = "区块链操作失败"
    http_status = 502


class ChainUnavailable(ChainError):
    """The node could not be reached or did not answer in time."""

    code = "CHAIN_UNAVAILABLE"
    message_zh = "无法连接区块链节点"
    http_status = 503


class WrongChain(ChainError):
    """The node serves another chain than the configured one."""

    code = "WRONG_CHAIN"
    message_zh = "区块链节点的链标识与配置不符"
    http_status = 503

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the node serves chain id {actual}, configuration expects {expected}")
        self.expected = expected
        self.actual = actual


class WrongGenesis(ChainError):
    """The node's block 0 is not the configured genesis: another network, whatever its chain id."""

    code = "WRONG_GENESIS"
    message_zh = "区块链节点的创世区块与配置不符"
    http_status = 503

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"the node's genesis block is {actual}, configuration expects {expected} (EREG_GENESIS_HASH)",
            f"区块链节点的创世区块为 {actual}，配置要求 {expected}（EREG_GENESIS_HASH）",
        )
        self.expected = expected
        self.actual = actual


class RegistryNotFound(ChainError):
    """No registry contract at the configured or recorded address."""

    code = "REGISTRY_NOT_FOUND"
    message_zh = "未找到登记合约"
    http_status = 503


class TransactionTimeout(ChainError):
    """A sent transaction was not mined in time; it may still be mined later."""

    code = "TRANSACTION_TIMEOUT"
    message_zh = "交易在规定时间内未上链"
    http_status = 504

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


#: Which contract refused, by the prefix of its custom errors' names: (English, Chinese).
_CONTRACTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("GovernanceCouncil", "Timelock"), "the council", "治理委员会合约"),
    (("PropertyRegistry",), "the property registry", "不动产登记合约"),
    (("DocumentRegistry", "IssuerRegistry"), "the registry", "登记合约"),
    (("Sm2KeyRegistry",), "the SM2 key registry", "SM2 密钥登记合约"),
)


class ContractRevert(ChainError):
    """A call or transaction reverted; ``name`` and ``arguments`` are the decoded custom error.

    ``str()`` (and ``message``) is the decoded call, ``Name(arg=value, ...)``, which the relay
    records on a request; :meth:`describe` says which contract refused, for the CLI's line.
    """

    code = "CONTRACT_REVERT"
    message_zh = "合约拒绝了该操作"
    http_status = 409

    def __init__(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        data: str | None = None,
        tx_hash: str | None = None,
    ) -> None:
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in (args or {}).items())
        self.contract, contract_zh = next(
            ((en, zh) for prefixes, en, zh in _CONTRACTS if name.startswith(prefixes)), ("the contract", "合约")
        )
        call = f"{name}({rendered})"
        super().__init__(call, f"{contract_zh}拒绝了该操作：{call}")
        self.name = name
        self.arguments: dict[str, Any] = dict(args or {})
        self.data = data
        self.tx_hash = tx_hash

    def describe(self, lang: str = "en") -> str:
        """``refused by the registry: Name(args)`` (or the Chinese words with the call)."""
        if lang == "zh":
            return self.message_zh
        return f"refused by {self.contract}: {self.message}"


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
