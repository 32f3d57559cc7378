"""Talking to the city platform's relay (``registry_api``) over HTTP, as any client would.

The CLI signs locally and hands the relay only signed EIP-712 messages; the relay needs no
password and holds no department key. Every failure becomes one of the CLI's own errors:
the relay cannot be reached, it refused the request (its code and message), it rejected the
request later (its recorded reason), or the wait for a state ran out of time.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from chain.property import ActionEvent, PropertyCall, SignedAction
from chain.types import Role, SignedAnchor, SignedStatusChange
from issuer.errors import IssuerError, UsageError

#: Request states in the order a request moves through them (REJECTED ends it otherwise).
ORDER = ("QUEUED", "SUBMITTED", "ANCHORED", "FINAL")
REJECTED = "REJECTED"
FINAL = "FINAL"
#: A request id as the relay gives it out: 128 random bits, 32 lowercase hex digits.
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def is_request_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a request id of the relay (an older relay's integer ids are not)."""
    return isinstance(value, str) and REQUEST_ID.fullmatch(value) is not None


class RelayUnreachable(IssuerError):
    code = "RELAY_UNREACHABLE"
    message_zh = "无法连接中继服务"


class RelayRefused(IssuerError):
    """The relay answered a 4xx/5xx with its error body; ``code`` is the relay's."""

    message_zh = "中继服务拒绝了该请求"

    def __init__(self, status: int, code: str, message: str, message_zh: str | None = None) -> None:
        super().__init__(f"the relay refused the request (HTTP {status}): {message}", zh=message_zh)
        self.status = status
        self.code = code
        self.relay_message = message


class RelayRejected(IssuerError):
    """An accepted request the relay gave up on (the registry refused it)."""

    code = "RELAY_REJECTED"
    message_zh = "中继服务放弃了该请求（登记合约拒绝）"


class RelayTimeout(IssuerError):
    code = "RELAY_TIMEOUT"
    message_zh = "等待中继服务超时"


class RelayMismatch(IssuerError):
    """The relay serves another chain or registry than the one the key signs for."""

    code = "RELAY_MISMATCH"
    message_zh = "中继服务所服务的链或合约与本工具不符"


@dataclass(frozen=True)
class RequestState:
    """What ``GET /v1/requests/{id}`` says of a request (``root``, ``tx_hash`` and ``block`` only
    once it is ANCHORED or FINAL: the relay shows nothing of a request's content before)."""

    id: str
    state: str
    root: str | None
    tx_hash: str | None
    block: int | None
    reason: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> RequestState:
        request_id = body["id"]
        if not is_request_id(request_id):
            raise ValueError(f"not a request id: {request_id!r}")
        return cls(
            id=str(request_id),
            state=str(body["state"]),
            root=None if body.get("root") is None else str(body["root"]),
            tx_hash=body.get("txHash"),
            block=body.get("block"),
            reason=body.get("reason"),
        )

    def reached(self, goal: str) -> bool:
        return self.state in ORDER and ORDER.index(self.state) >= ORDER.index(goal)

    def describe(self) -> str:
        text = f"request {self.id} {self.state}"
        if self.tx_hash:
            text += f", tx {self.tx_hash}"
        if self.block is not None:
            text += f", block {self.block}"
        if self.reason:
            text += f" ({self.reason})"
        return text


@dataclass(frozen=True)
class Accepted:
    id: str
    state: str
    duplicate: bool
    signer: str


def anchor_json(signed: SignedAnchor, *, chain_id: int, registry: str) -> dict[str, Any]:
    return {
        "root": "0x" + signed.root.hex(),
        "docType": "0x" + signed.doc_type.hex(),
        "count": signed.count,
        "deadline": signed.deadline,
        "signature": "0x" + signed.signature.hex(),
        "chainId": chain_id,
        "registry": registry,
    }


def status_change_json(signed: SignedStatusChange, *, chain_id: int, registry: str) -> dict[str, Any]:
    change = signed.change
    return {
        "action": change.action.name,
        "root": "0x" + change.root.hex(),
        "targetHash": "0x" + change.target_hash.hex(),
        "proof": ["0x" + p.hex() for p in change.proof],
        "successorRoot": "0x" + change.successor_root.hex(),
        "successor": "0x" + change.successor.hex(),
        "successorProof": ["0x" + p.hex() for p in change.successor_proof],
        "reason": change.reason,
        "nonce": str(signed.nonce),
        "deadline": signed.deadline,
        "signature": "0x" + signed.signature.hex(),
        "chainId": chain_id,
        "registry": registry,
    }


@dataclass(frozen=True)
class StepAnswer:
    """What the relay answered to a property step: EXECUTED with its events, or SUBMITTED."""

    state: str
    duplicate: bool
    signer: str
    tx_hash: str
    events: list[ActionEvent]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> StepAnswer:
        return cls(
            state=str(body["state"]),
            duplicate=bool(body["duplicate"]),
            signer=str(body["signer"]),
            tx_hash=str(body["txHash"]),
            events=[ActionEvent(str(e["event"]), dict(e["args"]), int(e["logIndex"])) for e in body["events"]],
        )


def _h(value: bytes) -> str:
    return "0x" + value.hex()


def property_request(
    call: PropertyCall, signed: SignedAction, *, chain_id: int, registry: str
) -> tuple[str, dict[str, Any]]:
    """The relay's path and JSON body of a signed property step (the relay rebuilds ``call`` from them)."""
    a = call.args
    body: dict[str, Any]
    if call.function in ("registerUnit", "openTransfer", "resubmitTransfer"):
        body = {
            "certificate": {"root": _h(a[1]), "target": _h(a[2]), "proof": [_h(p) for p in a[3]]},
            "owners": [{"commitment": _h(c), "share": share} for c, share in a[4]],
        }
        path = {
            "registerUnit": f"/v1/property/units/{_h(a[0])}",
            "openTransfer": f"/v1/property/units/{_h(a[0])}/transfers",
            "resubmitTransfer": f"/v1/property/transfers/{a[0]}/resubmission",
        }[call.function]
    elif call.function == "approveTransfer":
        path = f"/v1/property/transfers/{a[0]}/approvals"
        body = {"round": a[1], "roles": [r.name for r in Role if r and r in Role(a[2])]}
    elif call.function in ("rejectTransfer", "returnTransfer", "cancelTransfer"):
        step = {"rejectTransfer": "rejection", "returnTransfer": "return", "cancelTransfer": "cancellation"}
        path = f"/v1/property/transfers/{a[0]}/{step[call.function]}"
        body = {"reason": a[1]}
    elif call.function == "consentToTransfer":
        path = f"/v1/property/transfers/{a[0]}/consents"
        body = {"round": a[1], "mortgageId": a[2]}
    elif call.function == "registerMortgage":
        path = f"/v1/property/units/{_h(a[0])}/mortgages"
        body = {"certificate": {"root": _h(a[1]), "target": _h(a[2]), "proof": [_h(p) for p in a[3]]}}
    elif call.function == "releaseMortgage":
        path, body = f"/v1/property/units/{_h(a[0])}/mortgages/{a[1]}/release", {}
    elif call.function == "registerSeizure":
        path, body = f"/v1/property/units/{_h(a[0])}/seizures", {"ruling": _h(a[1])}
    elif call.function == "releaseSeizure":
        path, body = f"/v1/property/units/{_h(a[0])}/seizures/{a[1]}/release", {}
    elif call.function == "openCorrection":
        path = f"/v1/property/units/{_h(a[0])}/corrections"
        revoke = a[2] == bytes(32)
        body = {
            "certificate": None if revoke else {"root": _h(a[1]), "target": _h(a[2]), "proof": [_h(p) for p in a[3]]},
            "owners": [{"commitment": _h(c), "share": share} for c, share in a[4]],
            "reason": a[5],
        }
    elif call.function == "approveCorrection":
        path, body = f"/v1/property/corrections/{a[0]}/approvals", {}
    else:
        raise UsageError(f"{call.function} cannot be relayed")
    body.update(
        {
            "nonce": str(signed.nonce),
            "deadline": signed.deadline,
            "signature": _h(signed.signature),
            "chainId": chain_id,
            "registry": registry,
        }
    )
    return path, body


class RelayClient:
    """A few JSON calls to the relay at ``base_url``; ``timeout`` bounds each HTTP call."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--via needs the relay's http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    # --------------------------------------------------------------------- operations
    def check_domain(self, chain_id: int, registry: str) -> None:
        """Refuse a relay that serves another chain or registry than the one this CLI signs for."""
        _status, body = self._call("GET", "/healthz", ok=(200, 503))
        served_chain, served_registry = body.get("chainId"), str(body.get("registry", ""))
        if served_chain != chain_id or served_registry.lower() != registry.lower():
            raise RelayMismatch(
                f"the relay at {self.base_url} serves chain {served_chain} registry {served_registry}; "
                f"this CLI signs for chain {chain_id} registry {registry}"
            )

    def check_property_domain(self, chain_id: int, registry: str) -> None:
        """Refuse a relay that serves another chain or PropertyRegistry than the one the key signs for."""
        _status, body = self._call("GET", "/healthz", ok=(200, 503))
        served_chain, served = body.get("chainId"), str(body.get("propertyRegistry") or "")
        if served_chain != chain_id or served.lower() != registry.lower():
            raise RelayMismatch(
                f"the relay at {self.base_url} serves chain {served_chain} property registry {served or 'none'}; "
                f"this CLI signs for chain {chain_id} property registry {registry}"
            )

    def post_property_step(self, path: str, body: dict[str, Any]) -> StepAnswer:
        """POST a signed property step; 200 EXECUTED or 202 SUBMITTED (the same step may be sent again)."""
        _status, answer = self._call("POST", path, body, ok=(200, 202))
        try:
            return StepAnswer.from_json(answer)
        except (KeyError, TypeError, ValueError):
            raise RelayUnreachable(f"{self.base_url}{path} answered without a step outcome: is it the relay?") from None

    def post_anchor(self, body: dict[str, Any]) -> Accepted:
        return self._accepted(self._call("POST", "/v1/anchors", [body], ok=(202,))[1])

    def post_status_change(self, body: dict[str, Any]) -> Accepted:
        return self._accepted(self._call("POST", "/v1/status-changes", [body], ok=(202,))[1])

    def request(self, request_id: str) -> RequestState | None:
        """The request's state; None if the relay does not know it (nor anything not shaped like
        one of its ids, which is never put in a URL)."""
        if not is_request_id(request_id):
            return None
        status, body = self._call("GET", f"/v1/requests/{request_id}", ok=(200, 404))
        if status == 404:
            return None
        try:
            return RequestState.from_json(body)
        except (KeyError, TypeError, ValueError):
            raise RelayUnreachable(f"{self.base_url} answered without a request's state: is it the relay?") from None

    def wait(
        self,
        request_id: str,
        goal: str,
        *,
        timeout: float,
        poll: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> RequestState:
        """Poll until the request reaches ``goal`` (ANCHORED or FINAL); REJECTED and timeouts raise."""
        give_up = clock() + timeout
        while True:
            state = self.request(request_id)
            if state is None:
                raise RelayRejected(f"the relay at {self.base_url} does not know request {request_id}")
            if state.state == REJECTED:
                raise RelayRejected(f"the relay rejected request {request_id}: {state.reason or 'no reason given'}")
            if state.reached(goal):
                return state
            if clock() >= give_up:
                raise RelayTimeout(
                    f"{state.describe()} after {timeout:g} s, not yet {goal}; "
                    "it stays queued at the relay: check again later"
                )
            time.sleep(poll)

    # ---------------------------------------------------------------------- transport
    def _accepted(self, body: dict[str, Any]) -> Accepted:
        try:
            item = body["requests"][0]
            if not is_request_id(item["id"]):
                raise ValueError("not a request id")
            return Accepted(
                id=str(item["id"]),
                state=str(item["state"]),
                duplicate=bool(item["duplicate"]),
                signer=str(item["signer"]),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            raise RelayUnreachable(f"{self.base_url} answered 202 without a request id: is it the relay?") from None

    def _call(self, method: str, path: str, payload: Any = None, *, ok: tuple[int, ...]) -> tuple[int, dict[str, Any]]:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise RelayUnreachable(f"the relay at {self.base_url} cannot be reached: {reason}") from None
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RelayUnreachable(f"{self.base_url}{path} answered {status} with no JSON object: is it the relay?")
        if status in ok:
            return status, body
        error = body.get("error")
        if isinstance(error, dict):
            zh = error.get("message_zh")
            raise RelayRefused(
                status, str(error.get("code", "")), str(error.get("message", "")), str(zh) if zh else None
            )
        raise RelayRefused(status, f"HTTP_{status}", "unexpected answer")
