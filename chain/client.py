"""Connection to an EVM node, with transport and revert errors translated to :mod:`chain.errors`.

Nothing here connects at import. :func:`connect` builds a client from settings, checks the
node's chain id against the configured one and injects the PoA extraData middleware.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    ContractPanicError,
    ProviderConnectionError,
    TimeExhausted,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc import HTTPProvider

from chain.artifacts import Artifact, load_artifact
from chain.errors import (
    ChainError,
    ChainUnavailable,
    RegistryNotFound,
    RpcError,
    TransactionRejected,
    WrongChain,
    WrongGenesis,
)
from chain.revert import decode_revert
from chain.settings import ChainSettings

T = TypeVar("T")

#: JSON-RPC error codes that mean "the node will not take this transaction from this sender".
_REJECTED_CODES = {-32007}  # Besu: sender account not authorized (permissioning allowlist)


class ChainClient:
    """A Web3 connection plus the project's error translation."""

    def __init__(self, w3: Web3, settings: ChainSettings) -> None:
        self.w3 = w3
        self.settings = settings
        self.chain_id = settings.chain_id

    # ------------------------------------------------------------------ error translation
    @contextlib.contextmanager
    def translating(self, artifact: Artifact | None = None) -> Iterator[None]:
        """Turn web3/requests exceptions raised inside the block into ChainError subclasses."""
        try:
            yield
        except ChainError:
            raise
        except (ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(_revert_data(exc), artifact) from exc
        except BadFunctionCallOutput as exc:
            # a view answered nothing it could decode: no contract (or not this one) at the address,
            # as on a reset chain, a node still syncing or a wrong address
            raise RegistryNotFound(f"no contract answers the call at its address ({exc.__class__.__name__})") from exc
        except Web3RPCError as exc:
            raise translate_rpc_error(exc, artifact) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            ProviderConnectionError,
            TimeExhausted,
            ConnectionError,
            TimeoutError,
        ) as exc:
            raise ChainUnavailable(f"the node at {self.settings.rpc_url} is unreachable: {exc}") from exc
        except requests.exceptions.HTTPError as exc:
            raise ChainUnavailable(f"the node at {self.settings.rpc_url} answered {exc}") from exc

    def run(self, fn: Callable[[], T], artifact: Artifact | None = None) -> T:
        with self.translating(artifact):
            return fn()

    # ------------------------------------------------------------------------- helpers
    def block_number(self) -> int:
        return self.run(lambda: int(self.w3.eth.block_number))

    def latest_block_time(self) -> int:
        """The timestamp of the newest block: the chain's clock (time locks and key windows use it)."""
        return self.run(lambda: int(self.w3.eth.get_block("latest")["timestamp"]))

    def safe_block_number(self) -> int:
        """The newest block buried under the configured confirmation depth."""
        return max(self.block_number() - self.settings.confirmations, -1)

    def code_at(self, address: str) -> bytes:
        return self.run(lambda: bytes(self.w3.eth.get_code(Web3.to_checksum_address(address))))

    def contract(self, name: str, address: str) -> Contract:
        artifact = load_artifact(name)
        checksum: ChecksumAddress = Web3.to_checksum_address(address)
        return self.w3.eth.contract(address=checksum, abi=artifact.abi)

    def check_chain_id(self) -> None:
        """The node serves the configured chain: its chain id and, if configured, its genesis hash."""
        actual = self.run(lambda: int(self.w3.eth.chain_id))
        if actual != self.chain_id:
            raise WrongChain(self.chain_id, actual)
        self.check_genesis()

    def check_genesis(self) -> None:
        """Block 0's hash is ``settings.genesis_hash`` (nothing to check when none is configured)."""
        expected = self.settings.genesis_hash
        if expected is None:
            return
        actual = self.run(lambda: "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex())
        if actual.lower() != expected.lower():
            raise WrongGenesis(expected.lower(), actual)


def connect(settings: ChainSettings, *, check_chain: bool = True) -> ChainClient:
    """A client for the node of ``settings``; raises ChainUnavailable, WrongChain or WrongGenesis."""
    provider = HTTPProvider(
        str(settings.rpc_url),
        request_kwargs={"timeout": settings.request_timeout},
        exception_retry_configuration=None,
    )
    w3 = Web3(provider)
    if settings.poa:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    client = ChainClient(w3, settings)
    if check_chain:
        client.check_chain_id()
    return client


def translate_rpc_error(exc: Web3RPCError, artifact: Artifact | None) -> ChainError:
    error = (exc.rpc_response or {}).get("error") if exc.rpc_response else None
    return translate_error_object(error if isinstance(error, dict) else {}, artifact, default_message=str(exc))


def translate_error_object(error: Any, artifact: Artifact | None, *, default_message: str = "") -> ChainError:
    """The ChainError of a JSON-RPC error object (``{"code", "message", "data"}``): a revert
    decoded against ``artifact`` when it carries revert data, else an RpcError."""
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    message = error.get("message", default_message or str(error))
    data = error.get("data")
    tx_hash = None
    if isinstance(data, dict):
        # Hardhat mines a failing transaction when automining and answers the send with the
        # revert, naming the mined transaction.
        tx_hash = data.get("txHash")
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        revert = decode_revert(data, artifact)
        revert.tx_hash = tx_hash if isinstance(tx_hash, str) else None
        return revert
    if code in _REJECTED_CODES:
        return TransactionRejected(f"the node refused the sender: {message}", rpc_code=code)
    lowered = str(message).lower()
    if "revert" in lowered:
        return decode_revert(None, artifact, message=str(message))
    return RpcError(str(message), rpc_code=code if isinstance(code, int) else None)


def _revert_data(exc: ContractLogicError) -> str | None:
    data: Any = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) else None
