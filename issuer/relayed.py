"""``--via URL``: sign locally, submit through the city platform's relay, wait for the state.

The department key signs EIP-712 messages (the relay pays for and sends the transactions); the
CLI still reads the chain, from any node, for the department, the signing domain and the
clock. Before anything leaves the machine the CLI checks its own signature: it must recover to
the key that made it, for the domain this CLI is configured for, and the relay must serve that
same chain and registry.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from chain.client import ChainClient
from chain.eip712 import recover_anchor_signer, recover_status_change_signer, sign_anchor, sign_status_change
from chain.property import PropertyCall, PropertyClient, recover_action_signer, sign_action
from chain.registry import RegistryClient
from chain.types import SignedAnchor, SignedStatusChange, StatusChange
from issuer.errors import IssuerError, UsageError
from issuer.relay_client import (
    Accepted,
    RelayClient,
    RelayRejected,
    RelayTimeout,
    RequestState,
    StepAnswer,
    anchor_json,
    property_request,
    status_change_json,
)

# ---------------------------------------------------------------------- shared options
ViaOption = Annotated[
    str | None,
    typer.Option(
        "--via",
        envvar="EREG_RELAY_URL",
        help="Submit through the relay at this URL (signed locally; the relay sends the transaction).",
    ),
]
WaitForOption = Annotated[
    str,
    typer.Option("--wait-for", help="With --via: wait until the request is ANCHORED or FINAL (default)."),
]
NoWaitOption = Annotated[
    bool, typer.Option("--no-wait", help="With --via: report the request's id and state at once, do not wait.")
]
WaitTimeoutOption = Annotated[
    float, typer.Option("--wait-timeout", min=0.0, help="With --via: longest wait for the state, in seconds.")
]
DeadlineOption = Annotated[
    int,
    typer.Option(
        "--deadline-window",
        envvar="EREG_RELAY_DEADLINE_WINDOW",
        min=60,
        max=30 * 86400,
        help="With --via: the signature is void this many seconds after signing.",
    ),
]
DEFAULT_WAIT_TIMEOUT = 300.0
DEFAULT_DEADLINE_WINDOW = 3600
#: A recorded signature closer than this to its deadline is not sent again; a fresh one is made.
RESIGN_MARGIN = 120


class SignatureCheckFailed(IssuerError):
    code = "SIGNATURE_CHECK"
    message_zh = "签名核验失败，未发送"


@dataclass(frozen=True)
class Via:
    """How to reach the relay and how long to wait for it."""

    client: RelayClient
    wait_for: str | None  # "ANCHORED", "FINAL", or None: do not wait
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    deadline_window: int = DEFAULT_DEADLINE_WINDOW
    poll: float = 0.25

    @classmethod
    def from_options(
        cls, url: str | None, wait_for: str, no_wait: bool, wait_timeout: float, deadline_window: int
    ) -> Via | None:
        if url is None:
            return None
        goal = wait_for.upper()
        if goal not in ("ANCHORED", "FINAL"):
            raise UsageError(f"--wait-for is ANCHORED or FINAL, not {wait_for!r}")
        return cls(
            client=RelayClient(url),
            wait_for=None if no_wait else goal,
            wait_timeout=wait_timeout,
            deadline_window=deadline_window,
        )

    def wait(self, request_id: str) -> RequestState:
        assert self.wait_for is not None  # noqa: S101 - callers check
        return self.client.wait(request_id, self.wait_for, timeout=self.wait_timeout, poll=self.poll)


def deadline(client: ChainClient, window: int) -> int:
    """``window`` seconds after now, by the later of this machine's clock and the chain's."""
    chain_now = client.latest_block_time()
    return max(int(time.time()), chain_now) + window


def random_nonce() -> int:
    """An unordered nonce: 64 random bits (a collision needs about 2**32 changes by one key)."""
    return secrets.randbits(64)


def signed_anchor(
    account: LocalAccount, registry: RegistryClient, *, root: bytes, doc_type: bytes, count: int, deadline: int
) -> SignedAnchor:
    chain_id, address = registry.client.chain_id, registry.address
    signed = sign_anchor(
        account, chain_id=chain_id, registry=address, root=root, doc_type=doc_type, count=count, deadline=deadline
    )
    check_signer(recover_anchor_signer(signed, chain_id=chain_id, registry=address), account.address)
    return signed


def signed_status_change(
    account: LocalAccount, registry: RegistryClient, change: StatusChange, *, nonce: int, deadline: int
) -> SignedStatusChange:
    chain_id, address = registry.client.chain_id, registry.address
    signed = sign_status_change(
        account, chain_id=chain_id, registry=address, change=change, nonce=nonce, deadline=deadline
    )
    check_signer(recover_status_change_signer(signed, chain_id=chain_id, registry=address), account.address)
    return signed


def check_signer(recovered: str, expected: str) -> None:
    if to_checksum_address(recovered) != to_checksum_address(expected):
        raise SignatureCheckFailed(f"the signature recovers to {recovered}, not to the key {expected}; nothing sent")


def check_accepted(accepted: Accepted, account: LocalAccount) -> None:
    """The relay must have seen the same signer the CLI signed with."""
    check_signer(accepted.signer, account.address)


def anchor_body(signed: SignedAnchor, registry: RegistryClient) -> dict[str, Any]:
    return anchor_json(signed, chain_id=registry.client.chain_id, registry=registry.address)


def status_change_body(signed: SignedStatusChange, registry: RegistryClient) -> dict[str, Any]:
    return status_change_json(signed, chain_id=registry.client.chain_id, registry=registry.address)


def relay_status_change(via: Via, account: LocalAccount, registry: RegistryClient, change: StatusChange) -> str:
    """Sign ``change``, submit it, wait as asked; the outcome in words (``request 3f9c… FINAL, tx …``)."""
    via.client.check_domain(registry.client.chain_id, registry.address)
    signed = signed_status_change(
        account,
        registry,
        change,
        nonce=random_nonce(),
        deadline=deadline(registry.client, via.deadline_window),
    )
    accepted = via.client.post_status_change(status_change_body(signed, registry))
    check_accepted(accepted, account)
    if via.wait_for is None:
        return f"request {accepted.id} {accepted.state} at {via.client.base_url}"
    state = via.wait(accepted.id)
    return state.describe()


def relay_property_step(
    client: RelayClient,
    account: LocalAccount,
    prop: PropertyClient,
    call: PropertyCall,
    *,
    deadline_window: int = DEFAULT_DEADLINE_WINDOW,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    poll: float = 0.5,
) -> StepAnswer:
    """Sign the property step ``call``, have the relay run it, and return its answer once executed.

    A 202 SUBMITTED answer is followed by sending the same signed step again (the relay answers
    a step that already ran with that run) until it is executed or ``wait_timeout`` runs out.
    """
    chain_id = prop.client.chain_id
    client.check_property_domain(chain_id, prop.address)
    signed = sign_action(
        account,
        chain_id=chain_id,
        registry=prop.address,
        data=prop.calldata(call),
        nonce=random_nonce(),
        deadline=deadline(prop.client, deadline_window),
    )
    check_signer(recover_action_signer(signed, chain_id=chain_id, registry=prop.address), account.address)
    path, body = property_request(call, signed, chain_id=chain_id, registry=prop.address)
    give_up = time.monotonic() + wait_timeout
    answer = client.post_property_step(path, body)
    while answer.state != "EXECUTED":
        if time.monotonic() >= give_up:
            raise RelayTimeout(
                f"the relay sent the step in tx {answer.tx_hash} but it was not mined within {wait_timeout:g} s; "
                "check again later with `ereg property show`"
            )
        time.sleep(poll)
        answer = client.post_property_step(path, body)
    check_signer(answer.signer, account.address)
    return answer


__all__ = [
    "DEFAULT_DEADLINE_WINDOW",
    "DEFAULT_WAIT_TIMEOUT",
    "RESIGN_MARGIN",
    "DeadlineOption",
    "NoWaitOption",
    "RelayRejected",
    "SignatureCheckFailed",
    "Via",
    "ViaOption",
    "WaitForOption",
    "WaitTimeoutOption",
    "anchor_body",
    "check_accepted",
    "deadline",
    "random_nonce",
    "relay_property_step",
    "relay_status_change",
    "signed_anchor",
    "signed_status_change",
]
