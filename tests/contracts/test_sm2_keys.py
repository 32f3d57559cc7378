"""Sm2KeyRegistry: the departments' SM2 keys, deployed by the DocumentRegistry, governed like the
signing keys (adding and backdating through the time lock, retiring from now on at once)."""

from __future__ import annotations

from typing import Any

from web3.logs import DISCARD

from chain.governance import ProposalKind
from chain.sender import Receipt
from chain.types import ZERO32, Sm2Key, department_id, key_id
from tests.contracts.helpers import SM2_B, SM2_G, SM2_P, block_time, gov, sm2_point
from tests.factories import COUNCIL_DELAY, NATRES, SAMR, World, expect_revert

MAX_KEYS = 8
UNKNOWN = department_id("LA-NOWHERE")


def sm2_events(world: World, receipt: Receipt, name: str) -> list[dict[str, Any]]:
    event = getattr(world.registry.sm2_registry.contract.events, name)()
    return [dict(log["args"]) for log in event.process_receipt(receipt.raw, errors=DISCARD)]


def last_kind(world: World) -> ProposalKind:
    assert world.governance.last_proposal is not None
    return world.governance.last_proposal.kind


def add(world: World, department: bytes = SAMR, valid_until: int = 0) -> bytes:
    """A fresh SM2 key of ``department``, valid from an hour ago; returns its id."""
    x, y = sm2_point()
    world.registry.add_sm2_key(gov(world), department, x, y, world.now() - 3600, valid_until)
    return key_id(x, y)


def small_point() -> tuple[bytes, bytes]:
    """A point whose x is below 2^256 - p, so that x + p still fits in 32 bytes."""
    limit = 2**256 - SM2_P
    for x in range(1, 10_000):
        rhs = (x**3 - 3 * x + SM2_B) % SM2_P
        y = pow(rhs, (SM2_P + 1) // 4, SM2_P)
        if y * y % SM2_P == rhs and x < limit:
            return x.to_bytes(32, "big"), y.to_bytes(32, "big")
    raise AssertionError("no small point")


def test_deployed_with_the_registry_and_its_governance(world: World) -> None:
    registry = world.registry
    sm2 = registry.sm2_registry
    assert sm2.address == registry.sm2_key_registry_address()
    assert world.client.code_at(sm2.address) and world.client.code_at(registry.sm3_merkle_address())
    assert sm2.contract.functions.issuerRegistry().call() == registry.address
    timelock, council = world.council.timelock(), world.council.address
    functions = sm2.contract.functions
    governor, guardian = functions.GOVERNOR_ROLE().call(), functions.GUARDIAN_ROLE().call()
    assert functions.hasRole(ZERO32, timelock).call() and functions.hasRole(governor, timelock).call()
    assert functions.hasRole(guardian, council).call() and not functions.hasRole(governor, council).call()
    assert not functions.hasRole(ZERO32, world.governor.address).call()


def test_add_through_the_time_lock(world: World) -> None:
    registry = world.registry
    x, y = sm2_point()
    valid_from, valid_until = world.now() - 10, world.now() + 100_000
    receipt = registry.add_sm2_key(gov(world), SAMR, x, y, valid_from, valid_until)
    assert receipt is not None and last_kind(world) is ProposalKind.SCHEDULED
    kid = key_id(x, y)
    assert sm2_events(world, receipt, "Sm2KeyAdded") == [
        {"department": SAMR, "keyId": kid, "x": x, "y": y, "validFrom": valid_from, "validUntil": valid_until}
    ]
    assert registry.sm2_key(kid) == Sm2Key(SAMR, valid_from, valid_until, x, y)
    key = registry.sm2_key(kid)
    assert key is not None and key.key_id == kid and key.valid_at(valid_from) and not key.valid_at(valid_until)
    second = add(world)
    assert registry.sm2_keys_of(SAMR) == [kid, second]
    assert registry.sm2_keys_of(NATRES) == []
    assert registry.sm2_key(ZERO32) is None
    # The base point is a point of the curve like any other.
    gx, gy = (v.to_bytes(32, "big") for v in SM2_G)
    registry.add_sm2_key(gov(world), NATRES, gx, gy, 0, 0)
    assert registry.sm2_keys_of(NATRES) == [key_id(gx, gy)]


def test_adding_is_refused_at_once_and_to_anyone_else(world: World) -> None:
    registry = world.registry
    x, y = sm2_point()
    call = registry.sm2_call("addSm2Key", SAMR, x, y, 0, 0)
    governor = registry.sm2_registry.contract.functions.GOVERNOR_ROLE().call()
    expect_revert(
        lambda: world.governance.run([call], kind=ProposalKind.IMMEDIATE),
        "AccessControlUnauthorizedAccount",
        account=world.council.address,
        neededRole=governor,
    )
    for account in (world.samr_key, world.members[0], world.governor):
        expect_revert(
            lambda account=account: registry.add_sm2_key(world.sender(account), SAMR, x, y, 0, 0),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=governor,
        )
    assert registry.sm2_keys_of(SAMR) == []


def test_add_refuses_bad_points_departments_duplicates_and_windows(world: World) -> None:
    registry = world.registry
    x, y = sm2_point()
    off_curve = ((int.from_bytes(y, "big") + 1) % SM2_P).to_bytes(32, "big")
    sx, sy = small_point()
    bad_points = [
        (x, off_curve),
        (ZERO32, ZERO32),
        # Right modulo p, but x is not below p; and y = p.
        ((int.from_bytes(sx, "big") + SM2_P).to_bytes(32, "big"), sy),
        (x, SM2_P.to_bytes(32, "big")),
    ]
    for bx, by in bad_points:
        expect_revert(
            lambda bx=bx, by=by: registry.add_sm2_key(gov(world), SAMR, bx, by, 0, 0),
            "Sm2KeyRegistryInvalidKey",
            x=bx,
            y=by,
        )
    expect_revert(
        lambda: registry.add_sm2_key(gov(world), UNKNOWN, x, y, 0, 0),
        "IssuerRegistryUnknownDepartment",
        department=UNKNOWN,
    )
    kid = key_id(x, y)
    for valid_from, valid_until in ((1000, 1000), (1000, 999)):
        expect_revert(
            lambda f=valid_from, u=valid_until: registry.add_sm2_key(gov(world), SAMR, x, y, f, u),
            "Sm2KeyRegistryInvalidKeyWindow",
            keyId=kid,
            validFrom=valid_from,
            validUntil=valid_until,
        )
    registry.add_sm2_key(gov(world), SAMR, x, y, 0, 0)
    for department in (SAMR, NATRES):  # never twice, not even for another department
        expect_revert(
            lambda department=department: registry.add_sm2_key(gov(world), department, x, y, 0, 0),
            "Sm2KeyRegistryKeyExists",
            keyId=kid,
            department=SAMR,
        )
    assert registry.sm2_keys_of(SAMR) == [kid]


def test_retire_from_now_on_at_once(world: World) -> None:
    registry = world.registry
    kid = add(world)
    until = world.now() + 600
    before = world.now()
    receipt = registry.retire_sm2_key(gov(world), kid, until)
    assert receipt is not None and last_kind(world) is ProposalKind.IMMEDIATE
    assert block_time(world, receipt) - before < COUNCIL_DELAY
    assert sm2_events(world, receipt, "Sm2KeyRetired") == [{"department": SAMR, "keyId": kid, "validUntil": until}]
    key = registry.sm2_key(kid)
    assert key is not None and key.valid_until == until
    # Nobody but the council (or its time lock) retires.
    guardian = registry.sm2_registry.contract.functions.GUARDIAN_ROLE().call()
    expect_revert(
        lambda: registry.retire_sm2_key(world.sender(world.members[0]), kid, until - 1),
        "AccessControlUnauthorizedAccount",
        account=world.members[0].address,
        neededRole=guardian,
    )
    # 0: from the block the retirement runs in.
    other = add(world)
    receipt = registry.retire_sm2_key(gov(world), other, 0)
    assert receipt is not None and last_kind(world) is ProposalKind.IMMEDIATE
    at = block_time(world, receipt)
    assert sm2_events(world, receipt, "Sm2KeyRetired")[0]["validUntil"] == at
    key = registry.sm2_key(other)
    assert key is not None and key.valid_until == at and not key.valid_at(at)


def test_backdated_retirement_needs_the_time_lock(world: World) -> None:
    registry = world.registry
    kid = add(world)
    until = world.now() - 60
    governor = registry.sm2_registry.contract.functions.GOVERNOR_ROLE().call()
    call = registry.sm2_call("retireSm2Key", kid, until)
    expect_revert(
        lambda: world.governance.run([call], kind=ProposalKind.IMMEDIATE),
        "AccessControlUnauthorizedAccount",
        account=world.council.address,
        neededRole=governor,
    )
    receipt = registry.retire_sm2_key(gov(world), kid, until)
    assert receipt is not None and last_kind(world) is ProposalKind.SCHEDULED
    assert sm2_events(world, receipt, "Sm2KeyRetired") == [{"department": SAMR, "keyId": kid, "validUntil": until}]
    key = registry.sm2_key(kid)
    assert key is not None and key.valid_until == until


def test_retire_refuses_unknown_keys_and_longer_windows(world: World) -> None:
    registry = world.registry
    stranger = key_id(*sm2_point())
    expect_revert(
        lambda: registry.retire_sm2_key(gov(world), stranger, world.now() + 600),
        "Sm2KeyRegistryUnknownKey",
        keyId=stranger,
    )
    kid = add(world, valid_until=world.now() + 100_000)
    key = registry.sm2_key(kid)
    assert key is not None
    for bad in (key.valid_until, key.valid_until + 1):  # never extended
        expect_revert(
            lambda bad=bad: registry.retire_sm2_key(gov(world), kid, bad),
            "Sm2KeyRegistryInvalidKeyWindow",
            keyId=kid,
            validFrom=key.valid_from,
            validUntil=bad,
        )
    expect_revert(  # never emptied
        lambda: registry.retire_sm2_key(gov(world), kid, key.valid_from),
        "Sm2KeyRegistryInvalidKeyWindow",
        keyId=kid,
        validFrom=key.valid_from,
        validUntil=key.valid_from,
    )


def test_at_most_eight_live_keys_and_ended_ones_free_their_place(world: World) -> None:
    registry = world.registry
    with gov(world).batch():
        ids = [add(world) for _ in range(MAX_KEYS)]
    assert registry.sm2_keys_of(SAMR) == ids
    x, y = sm2_point()
    expect_revert(
        lambda: registry.add_sm2_key(gov(world), SAMR, x, y, 0, 0),
        "Sm2KeyRegistryTooManyKeys",
        department=SAMR,
        max=MAX_KEYS,
    )
    add(world, NATRES)  # the limit is per department
    # A key retired from now on stays live until its window ends; then its place is free.
    registry.retire_sm2_key(gov(world), ids[0], world.now() + 120)
    world.increase_time(121)
    registry.add_sm2_key(gov(world), SAMR, x, y, 0, 0)
    nine = sm2_point()
    expect_revert(
        lambda: registry.add_sm2_key(gov(world), SAMR, *nine, 0, 0),
        "Sm2KeyRegistryTooManyKeys",
    )
    # A backdated retirement frees it at once.
    registry.retire_sm2_key(gov(world), ids[1], world.now() - 1)
    registry.add_sm2_key(gov(world), SAMR, *nine, 0, 0)
    assert registry.sm2_keys_of(SAMR) == [*ids, key_id(x, y), key_id(*nine)]
