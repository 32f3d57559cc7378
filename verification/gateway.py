"""The verification's access to the chain when no index answers: lazy, bounded, never on the loop.

Every call first asks :func:`verification.backends.require_backend` (in inline mode it raises
:class:`~verification.backends.BackendNeeded`, so the verification moves to the request pool), then
runs inside the chain's bulkhead: a node that timed out or refused a connection opens the
breaker, and further calls raise :class:`~chain.errors.ChainUnavailable` at once. Any failure is
a :class:`~chain.errors.ChainError`; a registry missing at the configured address (a reset chain,
a resyncing node, a wrong address) is :class:`~chain.errors.RegistryNotFound`, never a decoding
error of an empty answer.

Without an index (the ``ereg verify`` command run without ``--index``) the gateway is the only
source of facts, so it also answers what the index would: which departments anchored a root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from chain.client import ChainClient
from chain.errors import ChainError, ChainUnavailable, RegistryNotFound
from chain.property import Mortgage, PropertyClient, UnitState
from chain.registry import RegistryClient
from chain.types import SignerKey, State
from httpkit.blocking import Bulkhead
from verification.backends import require_backend

T = TypeVar("T")

ZERO32 = b"\x00" * 32
#: Seconds an SM2 key's record is reused (see :meth:`ChainGateway.sm2_key`).
SM2_KEY_TTL = 5.0
#: Which change wins when the batch and the document both carry one.
PRECEDENCE = (State.REVOKED, State.SUPERSEDED, State.SUSPENDED)


def prevailing(batch: State, document: State) -> Literal["batch", "document"] | None:
    """Whose change is in force, the batch's or the document's: the first state of
    :data:`PRECEDENCE` either carries, the batch's first at equal rank; None when neither has one."""
    for candidate in PRECEDENCE:
        if batch == candidate:
            return "batch"
        if document == candidate:
            return "document"
    return None


@dataclass(frozen=True)
class Facts:
    """What the chain says about one document, from the index or from the chain itself."""

    anchored: bool
    department: bytes = ZERO32
    signer: str = ""
    doc_type: bytes = ZERO32
    count: int = 0
    anchored_at: int = 0
    block_number: int | None = None
    tx_hash: str | None = None
    state: State = State.ACTIVE
    reason: int = 0
    changed_at: int = 0
    successor: bytes = ZERO32
    key_window: tuple[int, int] | None = None  # (valid_from, valid_until); 0 = open
    department_name: str | None = None
    credit_code: str | None = None
    source: str = "index"


class ChainGateway:
    """Lazy access to the chain for the fallback path; any failure is ChainError."""

    def __init__(
        self,
        registry_factory: Callable[[], RegistryClient],
        property_factory: Callable[[], PropertyClient] | None = None,
        *,
        bulkhead: Bulkhead | None = None,
    ) -> None:
        self._factory = registry_factory
        self._property_factory = property_factory
        self._bulkhead = bulkhead
        self._registry: RegistryClient | None = None
        self._property: PropertyClient | None = None
        self._lock = threading.Lock()
        self._sm2_cache: dict[bytes, tuple[float, Any]] = {}

    @classmethod
    def on_client(
        cls,
        client: ChainClient,
        registry_address: str,
        property_address: str | None = None,
        *,
        bulkhead: Bulkhead | None = None,
    ) -> ChainGateway:
        """The gateway to the registries at these addresses through ``client``.

        Nothing is asked at build time: the chain id and the contracts' code are checked on first
        use, so a service (or a command) starts while the node is down and answers ERROR.
        """

        def registry_factory() -> RegistryClient:
            client.check_chain_id()
            registry = RegistryClient(client, registry_address)
            registry.ensure_deployed()  # no code there: RegistryNotFound, an ERROR verdict, not a bad call
            return registry

        property_factory: Callable[[], PropertyClient] | None = None
        if property_address is not None:
            followed = property_address

            def make_property_client() -> PropertyClient:
                client.check_chain_id()
                registry = PropertyClient(client, followed)
                registry.ensure_deployed()
                return registry

            property_factory = make_property_client
        return cls(registry_factory, property_factory, bulkhead=bulkhead)

    @property
    def follows_property(self) -> bool:
        """Whether a PropertyRegistry is configured (so titles and mortgages can be asked)."""
        return self._property_factory is not None

    # --------------------------------------------------------------------------- plumbing
    def _call(self, fn: Callable[[], T]) -> T:
        require_backend("chain")
        if self._bulkhead is None:
            return self._guarded(fn)
        return self._bulkhead.call(lambda: self._guarded(fn), on_busy=_busy, trip_on=(ChainUnavailable,))

    def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except RegistryNotFound:
            # no contract there (any more): forget the clients, so the next call checks the code again
            with self._lock:
                self._registry = self._property = None
            raise

    def registry(self) -> RegistryClient:
        """The DocumentRegistry, its chain id and code checked on first use."""
        return self._call(self._registry_client)

    def _registry_client(self) -> RegistryClient:
        registry = self._registry
        if registry is None:
            registry = self._factory()
            with self._lock:
                self._registry = registry
        return registry

    def _property_client(self) -> PropertyClient:
        registry = self._property
        if registry is None:
            if self._property_factory is None:
                raise ChainError("no PropertyRegistry is configured")
            registry = self._property_factory()
            with self._lock:
                self._property = registry
        return registry

    # ------------------------------------------------------------------------------ reads
    def property_registry(self) -> PropertyClient:
        """The PropertyRegistry; ChainError when there is none or it cannot be reached."""
        return self._call(self._property_client)

    def unit_state(self, unit: bytes) -> UnitState:
        """The PropertyRegistry's ``unitState(unit)``; ChainError when there is none or it cannot be read."""
        return self._call(lambda: self._property_client().unit_state(unit))

    def mortgage_history(self, unit: bytes) -> list[Mortgage]:
        """Every mortgage of ``unit`` (``mortgageHistory``); ChainError as :meth:`unit_state`."""
        return self._call(lambda: self._property_client().mortgage_history(unit))

    def signer_key(self, address: str) -> SignerKey | None:
        """The IssuerRegistry's record of a signer key; None for an address that is no department's key."""
        return self._call(lambda: self._registry_client().known_signer_key(address))

    def sm2_key(self, key_id: bytes) -> Any:
        """The Sm2KeyRegistry's record of an SM2 key (``chain.types.Sm2Key``); None for an unknown id.

        Kept for :data:`SM2_KEY_TTL` seconds: a key's record changes only by governance, and the
        window of a key retired "from now" never touches documents anchored before. A backdated
        retirement waits out the council's time lock, far longer than this.
        """
        now = time.monotonic()
        cached = self._sm2_cache.get(key_id)
        if cached is not None and now - cached[0] < SM2_KEY_TTL:
            return cached[1]
        record = self._call(lambda: self._registry_client().sm2_key(key_id))
        with self._lock:
            if len(self._sm2_cache) >= 1024:
                self._sm2_cache.clear()
            self._sm2_cache[key_id] = (now, record)
        return record

    def department_name(self, department: bytes) -> str | None:
        return self._call(lambda: self._registry_client().department(department).name or None)

    def departments_anchoring(self, root: bytes) -> list[bytes]:
        """The registered departments that hold a record of ``root``, as the index's
        ``anchors_of_root`` names them; one call per department, so only off the hot path."""

        def ask() -> list[bytes]:
            registry = self._registry_client()
            return [dept for dept in registry.department_ids() if registry.document_status(dept, root).anchored]

        return self._call(ask)

    def facts(self, department: bytes, root: bytes, target_hash: bytes) -> Facts:
        """What the chain says of ``root`` (and document ``target_hash``) as anchored by
        ``department``; the contract's view already skips voided changes."""
        return self._call(lambda: self._facts(department, root, target_hash))

    def _facts(self, department: bytes, root: bytes, target_hash: bytes) -> Facts:
        registry = self._registry_client()
        status = registry.document_status(department, root, target_hash)
        if not status.anchored:
            return Facts(anchored=False, source="chain")
        which = prevailing(status.batch.state, status.document.state)
        record = None if which is None else (status.batch if which == "batch" else status.document)
        state = State.ACTIVE if record is None else record.state
        key = registry.signer_key(status.signer)
        dept = registry.department(status.department)
        return Facts(
            anchored=True,
            department=status.department,
            signer=status.signer,
            doc_type=status.doc_type,
            count=status.count,
            anchored_at=status.anchored_at,
            state=state,
            reason=record.reason if record else 0,
            changed_at=record.changed_at if record else 0,
            successor=status.successor,
            key_window=(key.valid_from, key.valid_until),
            department_name=dept.name,
            credit_code=dept.credit_code,
            source="chain",
        )


def _busy() -> Exception:
    return ChainUnavailable("the chain node is not answering (calls in flight or breaker open)")
