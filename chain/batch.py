"""Many chain reads in one JSON-RPC batch: one HTTP round trip instead of one per read.

A :class:`ReadBatch` collects reads (contract view calls, the latest block's time, any other
request), sends them together with :meth:`ReadBatch.send` and hands each result back through
its :class:`Pending`. Each read succeeds or fails on its own: a call that reverts inside the
batch raises, when its result is asked for, the same :class:`chain.errors.ContractRevert` the
single call would have raised (decoded against the contract's artifact), and a read nobody asks
for never raises. Only what concerns the whole batch raises at :meth:`ReadBatch.send`: a node
that cannot be reached (ChainUnavailable) or that refuses the batch as a whole (RpcError).

Batches longer than ``max_size`` go as several round trips (Besu's default limit is 1,024
requests per batch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Generic, TypeVar, cast

from eth_abi.exceptions import DecodingError
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_typing import ABIFunction
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint

from chain.artifacts import Artifact
from chain.client import ChainClient, translate_error_object
from chain.contract import ContractClient
from chain.errors import ChainError, RegistryNotFound, RpcError

T = TypeVar("T")

#: Requests per HTTP round trip at most (below Besu's default --rpc-http-max-batch-size of 1,024).
MAX_BATCH = 500

_UNSENT = object()


class Pending(Generic[T]):
    """The result of one read of a batch, there once the batch was sent."""

    __slots__ = ("_artifact", "_decode", "_error", "_value")

    def __init__(self, decode: Callable[[Any], T], artifact: Artifact | None) -> None:
        self._decode = decode
        self._artifact = artifact
        self._value: Any = _UNSENT
        self._error: ChainError | None = None

    @property
    def sent(self) -> bool:
        return self._value is not _UNSENT or self._error is not None

    def get(self) -> T:
        """The read's value; raises its ChainError (a revert, an RPC error) if it failed."""
        if self._error is not None:
            raise self._error
        if self._value is _UNSENT:
            raise RuntimeError("the batch of this read was not sent")
        return cast(T, self._value)

    def _settle(self, response: Any) -> None:
        if not isinstance(response, dict):
            self._error = RpcError(f"the node answered a batched request with {response!r}")
            return
        error = response.get("error")
        if error is not None:
            self._error = translate_error_object(error, self._artifact)
            return
        try:
            self._value = self._decode(response.get("result"))
        except ChainError as exc:
            self._error = exc


class ReadBatch:
    """Reads collected now and sent together by :meth:`send` (see the module's docstring)."""

    def __init__(self, client: ChainClient, *, max_size: int = MAX_BATCH) -> None:
        if max_size < 1:
            raise ValueError("a batch holds at least one request")
        self.client = client
        self.max_size = max_size
        self._requests: list[tuple[str, Any]] = []
        self._pending: list[Pending[Any]] = []

    def __len__(self) -> int:
        return len(self._requests)

    def request(
        self, method: str, params: Sequence[Any], decode: Callable[[Any], T], artifact: Artifact | None = None
    ) -> Pending[T]:
        """Any JSON-RPC read; ``decode`` turns its raw ``result`` into the value."""
        pending: Pending[T] = Pending(decode, artifact)
        self._requests.append((method, list(params)))
        self._pending.append(pending)
        return pending

    def latest_block_time(self) -> Pending[int]:
        """The newest block's timestamp (the chain's clock), as ChainClient.latest_block_time."""
        return self.request("eth_getBlockByNumber", ["latest", False], _block_timestamp)

    def call(self, contract: ContractClient, fn_name: str, *args: Any, sender: str | None = None) -> Pending[Any]:
        """``contract.functions.<fn_name>(*args).call({"from": sender})`` at the latest block,
        decoded as web3 decodes it (one output: the value; several: the list of them)."""
        return self.view(_same, contract, fn_name, *args, sender=sender)

    def view(
        self,
        convert: Callable[[Any], T],
        contract: ContractClient,
        fn_name: str,
        *args: Any,
        sender: str | None = None,
    ) -> Pending[T]:
        """As :meth:`call`, the decoded value then passed through ``convert`` (e.g. a from_tuple)."""
        plan = call_plan(contract, fn_name)
        output_types = list(plan.outputs)
        if len(args) != len(plan.inputs):
            raise TypeError(f"{fn_name} takes {len(plan.inputs)} arguments, {len(args)} given")
        data = plan.selector + self.client.w3.codec.encode(plan.inputs, args).hex()
        transaction: dict[str, str] = {"to": contract.address, "data": data}
        if sender is not None:
            transaction["from"] = to_checksum_address(sender)
        codec = self.client.w3.codec

        def decode(result: Any) -> Any:
            raw = bytes(HexBytes(result)) if result is not None else b""
            if output_types and not raw:
                # as web3's BadFunctionCallOutput, which ChainClient maps the same way
                raise RegistryNotFound("no contract answers the call at its address (BadFunctionCallOutput)")
            try:
                decoded = codec.decode(output_types, raw)
            except DecodingError as exc:
                name = exc.__class__.__name__
                raise RegistryNotFound(f"no contract answers the call at its address ({name})") from exc
            values = plan.normalize(decoded)
            return convert(values[0] if len(output_types) == 1 else list(values))

        return self.request("eth_call", [transaction, "latest"], decode, contract.artifact)

    def send(self) -> None:
        """Sends every read not yet sent: one round trip per ``max_size`` of them."""
        requests, pending = self._requests, self._pending
        self._requests, self._pending = [], []
        provider = cast(JSONBaseProvider, self.client.w3.provider)
        for start in range(0, len(requests), self.max_size):
            chunk = [(RPCEndpoint(method), params) for method, params in requests[start : start + self.max_size]]
            responses = self.client.run(partial(provider.make_batch_request, chunk))
            if not isinstance(responses, list):  # the node refused the batch as a whole
                error = responses.get("error") if isinstance(responses, dict) else None
                if isinstance(error, dict):
                    raise translate_error_object(error, None)
                raise RpcError(f"the node answered a batch with {responses!r}")
            if len(responses) != len(chunk):
                raise RpcError(f"the node answered {len(responses)} of a batch's {len(chunk)} requests")
            # web3's provider puts the answers in the order of the requests (it sorts them by id)
            for target, response in zip(pending[start : start + self.max_size], responses, strict=True):
                target._settle(response)


@dataclass(frozen=True)
class CallPlan:
    """How to call one view of a contract without web3's per-call work: its selector (0x-hex),
    input and output types, and the normalization web3 applies to what it returns (addresses
    checksummed, arrays as lists; everything else as decoded)."""

    selector: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    normalize: Callable[[tuple[Any, ...]], tuple[Any, ...]]


_plans: dict[tuple[str, str], CallPlan] = {}


def call_plan(contract: ContractClient, fn_name: str) -> CallPlan:
    """The :class:`CallPlan` of ``contract``'s function ``fn_name``, made once per contract kind.

    web3's ``encode_abi`` finds the function by computing the 4-byte selector of every function
    of the ABI, and its return normalizers rebuild every value: together about half of a relay's
    CPU time per POST before this. The result is the same bytes and the same values (tested
    against web3 for every view of the contracts).
    """
    key = (contract.contract_name, fn_name)
    plan = _plans.get(key)
    if plan is None:
        abi = cast(ABIFunction, contract.contract.get_function_by_name(fn_name).abi)
        outputs = tuple(get_abi_output_types(abi))
        plan = CallPlan(
            selector="0x" + function_abi_to_4byte_selector(abi).hex(),
            inputs=tuple(get_abi_input_types(abi)),
            outputs=outputs,
            normalize=_normalizer([parse(t) for t in outputs]),
        )
        _plans[key] = plan
    return plan


@lru_cache(maxsize=1024)
def _checksummed(address: str) -> str:
    return str(to_checksum_address(address))


def _converter(abi_type: ABIType) -> Callable[[Any], Any] | None:
    """What web3's return normalization does to a decoded value of ``abi_type`` (None: nothing):
    addresses checksummed, arrays made lists (eth_abi decodes them as tuples), structs kept tuples."""
    if abi_type.is_array:
        item = _converter(abi_type.item_type)
        if item is None:
            return list
        return lambda values: [item(value) for value in values]
    if isinstance(abi_type, TupleType):
        return _normalizer(list(abi_type.components))
    if isinstance(abi_type, BasicType) and abi_type.base == "address":
        return _checksummed
    return None


def _normalizer(types: Sequence[ABIType]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    parts = [_converter(t) for t in types]
    if all(part is None for part in parts):
        return _same

    def normalize(values: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(value if part is None else part(value) for part, value in zip(parts, values, strict=True))

    return normalize


def _same(value: Any) -> Any:
    return value


def _block_timestamp(result: Any) -> int:
    if not isinstance(result, dict) or "timestamp" not in result:
        raise RpcError(f"the node answered eth_getBlockByNumber with {result!r}")
    return int(str(result["timestamp"]), 16)
