"""Decoded registry events to index rows, and the rollback of the rows above a block.

Pure functions over a ``sqlite3.Connection``: no RPC client, no threads, no transactions of their
own (the caller commits the rows with its cursor, so a chunk is applied whole or not at all). An
anchor is kept under its signer key's department (fixed by SignerKeyAdded, passed in as
``signer_departments`` since it is read on every anchor). Governance events are kept verbatim in
``governance_events`` and applied to the governance tables, which a rollback recomputes from them.

Property rows carry the block of every change made to them (registration, supersession,
release), so a rollback deletes what was created above the fork block and undoes what was
changed above it; a unit's current title is then restored from its titles.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chain.events import Event
from chain.logs import GOVERNANCE_EVENTS, PROPERTY_EVENTS, STATUS_EVENTS
from chain.types import REASON_CORRECTED, REASON_TRANSFERRED, ZERO32
from chainindex.records import CASE_PROPOSALS
from chainindex.schema import PROPERTY_EVENT_COLUMNS, STATUS_COLUMNS, UNIT_COLUMNS

#: The latest proposal of a case (the names of CASE_PROPOSALS), when it is in an earlier batch.
_Q_CASE_PROPOSAL = (
    "SELECT args FROM property_events WHERE case_id = ? "
    "AND name IN ('TransferOpened', 'TransferResubmitted', 'CorrectionOpened') "
    "ORDER BY block_number DESC, log_index DESC LIMIT 1"
)
#: Tables of events, trimmed above a fork block; the derived tables are undone or recomputed.
_EVENT_TABLES = ("anchors", "status_events", "title_locks", "governance_events", "property_events", "certificate_units")
_GOVERNANCE_TABLES = ("departments", "signer_keys", "document_types", "department_types")


@dataclass(frozen=True)
class Applied:
    """What one batch of events did to the index."""

    #: events that changed the index (not NonceUsed, access control or unknown events)
    count: int
    #: the signer keys the batch added: lower-case address -> department
    signers: dict[str, bytes] = field(default_factory=dict)


def known_signers(conn: sqlite3.Connection) -> dict[str, bytes]:
    """Every known signer key (lower-case address) with its department: the input of :func:`apply_events`."""
    rows = conn.execute("SELECT signer, department FROM signer_keys").fetchall()
    return {str(signer): bytes(dept) for signer, dept in rows}


def apply_events(
    conn: sqlite3.Connection,
    events: Sequence[Event],
    timestamps: Mapping[int, int],
    signer_departments: Mapping[str, bytes],
) -> Applied:
    """Write ``events`` (in chain order) to the index's tables, in the caller's transaction.

    ``timestamps`` gives the block time of each event's block; ``signer_departments`` the known
    signer keys (see :func:`known_signers`; the keys this batch adds come back in the result).
    """
    anchors: list[tuple[Any, ...]] = []
    statuses: list[tuple[Any, ...]] = []
    locks: list[tuple[Any, ...]] = []
    applied = 0
    added_signers: dict[str, bytes] = {}
    # (tx, department) of the last TransferApproved or CorrectionApproved: the department of
    # the TransferFinalized or TitleCorrected that follows it in the same transaction
    approval: tuple[str, bytes | None] | None = None
    property_rows = _PropertyRows([], [], {})
    for event in events:
        name = event.name
        args = event.args
        if name == "BatchAnchored":
            signer = str(args["signer"])
            key = signer.lower()
            department = added_signers.get(key) or signer_departments.get(key, ZERO32)
            anchors.append(
                (
                    args["root"],
                    signer,
                    department,
                    args["docType"],
                    int(args["count"]),
                    timestamps[event.block_number],
                    event.block_number,
                    event.tx_hash,
                    event.log_index,
                )
            )
        elif name in STATUS_EVENTS:
            statuses.append(
                (
                    args["department"],
                    args["root"],
                    args["targetHash"],
                    int(STATUS_EVENTS[name]),
                    int(args["reason"]),
                    args["actor"],
                    str(args["signer"]).lower(),
                    args.get("successorRoot", ZERO32),
                    args.get("successor", ZERO32),
                    event.block_number,
                    event.block_hash,
                    event.tx_hash,
                    event.log_index,
                    timestamps[event.block_number],
                )
            )
        elif name == "TitleLocked":
            locks.append((args["department"], args["root"], args["targetHash"], event.block_number, event.log_index))
        elif name in GOVERNANCE_EVENTS:
            timestamp = timestamps[event.block_number]
            normalized = _normalize(args)
            conn.execute(
                "INSERT INTO governance_events "
                "(block_number, log_index, name, args, block_hash, tx_hash, timestamp) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.block_number,
                    event.log_index,
                    name,
                    json.dumps(normalized, sort_keys=True),
                    event.block_hash,
                    event.tx_hash,
                    timestamp,
                ),
            )
            _apply_governance(conn, name, normalized, event.block_number, timestamp)
            if name == "SignerKeyAdded":
                added_signers[str(normalized["signer"]).lower()] = bytes.fromhex(str(normalized["department"])[2:])
        elif name in PROPERTY_EVENTS:
            # a finalization (of a transfer, of a correction) is made by the approval just
            # before it in the same transaction
            finalizer = approval[1] if approval is not None and approval[0] == event.tx_hash else None
            _apply_property(conn, property_rows, event, timestamps[event.block_number], finalizer)
            approved = name in ("TransferApproved", "CorrectionApproved")
            approval = (event.tx_hash, _department_or_none(args["department"])) if approved else None
        else:
            continue  # NonceUsed, AccessControl events, signed-action events, anything unknown
        applied += 1
    if anchors:
        conn.executemany(
            "INSERT INTO anchors (root, signer, department, doc_type, count, anchored_at, "
            "block_number, tx_hash, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            anchors,
        )
    if statuses:
        conn.executemany(
            f"INSERT INTO status_events ({STATUS_COLUMNS}) "  # noqa: S608 - constants
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            statuses,
        )
    if locks:
        conn.executemany(
            "INSERT INTO title_locks (department, root, target_hash, block_number, log_index) VALUES (?, ?, ?, ?, ?)",
            locks,
        )
    property_rows.flush(conn)
    return Applied(applied, added_signers)


def rollback_above(conn: sqlite3.Connection, number: int) -> None:
    """Remove every effect of the events above block ``number``, in the caller's transaction.

    Event rows above it are deleted, the property tables are undone (:func:`_rollback_property`)
    and the governance tables are recomputed from the governance events that remain.
    """
    for table in _EVENT_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE block_number > ?", (number,))  # noqa: S608 - fixed names
    _rollback_property(conn, number)
    for table in _GOVERNANCE_TABLES:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    replay = conn.execute(
        "SELECT name, args, block_number, timestamp FROM governance_events ORDER BY block_number, log_index"
    ).fetchall()
    for name, args, block, timestamp in replay:
        _apply_governance(conn, name, json.loads(args), block, timestamp)


# ---------------------------------------------------------------------------- governance
def _normalize(args: dict[str, Any]) -> dict[str, Any]:
    """Event arguments as JSON values: bytes as 0x-hex, everything else as is."""
    return {k: ("0x" + bytes(v).hex() if isinstance(v, bytes | bytearray) else v) for k, v in args.items()}


def _b32(value: Any) -> bytes:
    return bytes.fromhex(str(value)[2:])


def _apply_governance(conn: sqlite3.Connection, name: str, args: dict[str, Any], block: int, timestamp: int) -> None:
    """Apply one governance event (arguments as from :func:`_normalize`) to the derived tables."""
    if name == "DepartmentRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO departments "
            "(id, name, credit_code, idx, roles, active, registered_block, registered_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (
                _b32(args["department"]),
                str(args["name"]),
                str(args["creditCode"]),
                int(args["index"]),
                int(args["roles"]),
                block,
                timestamp,
            ),
        )
    elif name == "DepartmentActivationChanged":
        conn.execute(
            "UPDATE departments SET active = ? WHERE id = ?", (int(bool(args["active"])), _b32(args["department"]))
        )
    elif name == "DepartmentRolesChanged":
        conn.execute("UPDATE departments SET roles = ? WHERE id = ?", (int(args["roles"]), _b32(args["department"])))
    elif name == "SignerKeyAdded":
        conn.execute(
            "INSERT OR REPLACE INTO signer_keys (signer, department, valid_from, valid_until, added_block) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                str(args["signer"]).lower(),
                _b32(args["department"]),
                int(args["validFrom"]),
                int(args["validUntil"]),
                block,
            ),
        )
    elif name == "SignerKeyRetired":
        conn.execute(
            "UPDATE signer_keys SET valid_until = ? WHERE signer = ?",
            (int(args["validUntil"]), str(args["signer"]).lower()),
        )
    elif name == "DocumentTypeRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO document_types (id, name, idx, registered_block) VALUES (?, ?, ?, ?)",
            (_b32(args["docType"]), str(args["name"]), int(args["index"]), block),
        )
    elif name in ("DocumentTypeAuthorized", "DocumentTypeDeauthorized"):
        conn.execute(
            "INSERT OR REPLACE INTO department_types (department, doc_type, authorized, changed_block) "
            "VALUES (?, ?, ?, ?)",
            (
                _b32(args["department"]),
                _b32(args["docType"]),
                1 if name == "DocumentTypeAuthorized" else 0,
                block,
            ),
        )


# ------------------------------------------------------------------------------ property
def _json_args(args: dict[str, Any]) -> dict[str, Any]:
    """Property event arguments as JSON values: bytes as 0x-hex, owners as {commitment, share}."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, bytes | bytearray):
            out[key] = "0x" + bytes(value).hex()
        elif key == "owners":
            out[key] = [{"commitment": "0x" + bytes(o["commitment"]).hex(), "share": int(o["share"])} for o in value]
        else:
            out[key] = value
    return out


@dataclass
class _PropertyRows:
    """Append-only rows of one batch, inserted together at its end; and the owners each case of
    the batch last proposed (its events are not in the table yet when it is finalized)."""

    events: list[tuple[Any, ...]]
    links: list[tuple[Any, ...]]
    proposals: dict[int, str]

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.events:
            conn.executemany(
                f"INSERT INTO property_events ({PROPERTY_EVENT_COLUMNS}) "  # noqa: S608 - constants
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.events,
            )
        if self.links:
            conn.executemany(
                "INSERT INTO certificate_units (cert_target, unit, kind, case_id, block_number, log_index) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                self.links,
            )


def _department_or_none(value: bytes) -> bytes | None:
    """A department id of an event, None for zero (the council, for an approval of a correction)."""
    return None if value == ZERO32 else value


def _apply_property(
    conn: sqlite3.Connection, rows: _PropertyRows, event: Event, timestamp: int, finalizer: bytes | None
) -> None:
    """Apply one chain-of-title event: log it under its unit (in ``rows``) and update the derived tables.

    Every row and every change carries its block (``*_block``) for :func:`_rollback_property`.
    """
    name = event.name
    args = event.args
    unit: bytes = args["unitId"]
    block = event.block_number
    case_id: int | None = args.get("caseId")
    acting = args.get("department") or args.get("bank") or args.get("court")
    department: bytes | None = _department_or_none(acting) if acting is not None else finalizer
    normalized = _json_args(args)
    rows.events.append(
        (
            block,
            event.log_index,
            unit,
            name,
            case_id,
            department,
            json.dumps(normalized, separators=(",", ":")),
            event.block_hash,
            event.tx_hash,
            timestamp,
        )
    )

    def link(target: bytes, kind: str) -> None:
        rows.links.append((target, unit, kind, case_id, block, event.log_index))

    def end_title(previous: bytes, successor: bytes | None, reason: int) -> None:
        conn.execute(
            "UPDATE titles SET superseded_by = ?, superseded_at = ?, superseded_block = ?, superseded_case = ?, "
            "end_reason = ? WHERE unit = ? AND cert_target = ? AND superseded_block IS NULL",
            (successor, timestamp, block, case_id, reason, unit, previous),
        )

    def new_title(root: bytes, target: bytes, owners: str) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO titles (unit, cert_target, cert_root, case_id, owners, since, since_block) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (unit, target, root, case_id, owners, timestamp, block),
        )
        conn.execute(
            "UPDATE units SET cert_root = ?, cert_target = ?, owners = ?, since = ?, since_block = ?, case_id = ? "
            "WHERE unit = ?",
            (root, target, owners, timestamp, block, case_id, unit),
        )
        link(target, "title")

    def proposed_owners() -> str:
        # the owners the case last proposed (its opening or latest resubmission)
        owners_text = rows.proposals.get(int(args["caseId"]))
        if owners_text is None:
            proposal = conn.execute(_Q_CASE_PROPOSAL, (case_id,)).fetchone()
            owners_text = json.dumps(json.loads(proposal[0])["owners"] if proposal else [], separators=(",", ":"))
        return owners_text

    if name == "UnitRegistered":
        # a first registration, or a unit registered again after a correction revoked its title
        owners = json.dumps(normalized["owners"], separators=(",", ":"))
        conn.execute(
            f"INSERT OR REPLACE INTO units ({UNIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",  # noqa: S608
            (
                unit,
                args["department"],
                timestamp,
                block,
                args["certRoot"],
                args["certTarget"],
                owners,
                timestamp,
                block,
            ),
        )
        conn.execute(
            "INSERT OR REPLACE INTO titles (unit, cert_target, cert_root, case_id, owners, since, since_block) "
            "VALUES (?, ?, ?, NULL, ?, ?, ?)",
            (unit, args["certTarget"], args["certRoot"], owners, timestamp, block),
        )
        link(args["certTarget"], "title")
    elif name in CASE_PROPOSALS:
        if args["certTarget"] != ZERO32:  # a correction that revokes the title proposes none
            link(args["certTarget"], "proposed")
        rows.proposals[int(args["caseId"])] = json.dumps(normalized["owners"], separators=(",", ":"))
    elif name == "TransferFinalized":
        end_title(args["previousTarget"], args["certTarget"], REASON_TRANSFERRED)
        new_title(args["certRoot"], args["certTarget"], proposed_owners())
    elif name == "TitleCorrected":
        if args["certTarget"] == ZERO32:
            # the title is revoked: the unit has none until it is registered again
            end_title(args["previousTarget"], None, REASON_CORRECTED)
            conn.execute(
                "UPDATE units SET cert_root = ?, cert_target = ?, owners = '[]', since = ?, since_block = ?, "
                "case_id = ? WHERE unit = ?",
                (ZERO32, ZERO32, timestamp, block, case_id, unit),
            )
        else:
            end_title(args["previousTarget"], args["certTarget"], REASON_CORRECTED)
            new_title(args["certRoot"], args["certTarget"], proposed_owners())
    elif name == "MortgageRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO mortgages (unit, mortgage_id, bank, cert_root, cert_target, registered_at, "
            "registered_block) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (unit, args["mortgageId"], args["bank"], args["certRoot"], args["certTarget"], timestamp, block),
        )
        link(args["certTarget"], "mortgage")
    elif name == "MortgageReleased":
        conn.execute(
            "UPDATE mortgages SET released_at = ?, released_block = ? WHERE unit = ? AND mortgage_id = ?",
            (timestamp, block, unit, args["mortgageId"]),
        )
    elif name == "SeizureRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO seizures (unit, seizure_id, court, ruling, registered_at, registered_block) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (unit, args["seizureId"], args["court"], args["ruling"], timestamp, block),
        )
    elif name == "SeizureReleased":
        conn.execute(
            "UPDATE seizures SET released_at = ?, released_block = ? WHERE unit = ? AND seizure_id = ?",
            (timestamp, block, unit, args["seizureId"]),
        )
    # approvals, consents, rejections, returns and cancellations live in the event log only


def _rollback_property(conn: sqlite3.Connection, number: int) -> None:
    """Undo every property change above block ``number`` (the event log is trimmed first).

    Rows created above it are deleted, changes made above it (supersession, revocation, release)
    are undone, and a unit changed above it is rebuilt from what remains: its latest registration
    event and the title that is current again (none if a correction revoked it).
    """
    conn.execute("DELETE FROM titles WHERE since_block > ?", (number,))
    conn.execute(
        "UPDATE titles SET superseded_by = NULL, superseded_at = NULL, superseded_block = NULL, "
        "superseded_case = NULL, end_reason = NULL WHERE superseded_block > ?",
        (number,),
    )
    for table in ("mortgages", "seizures"):
        conn.execute(f"DELETE FROM {table} WHERE registered_block > ?", (number,))  # noqa: S608 - fixed names
        conn.execute(
            f"UPDATE {table} SET released_at = NULL, released_block = NULL WHERE released_block > ?",  # noqa: S608
            (number,),
        )
    changed = conn.execute(
        "SELECT unit FROM units WHERE registered_block > ? OR since_block > ?", (number, number)
    ).fetchall()
    for (unit,) in changed:
        registration = conn.execute(
            "SELECT department, timestamp, block_number FROM property_events WHERE unit = ? "
            "AND name = 'UnitRegistered' ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (unit,),
        ).fetchone()
        if registration is None:
            conn.execute("DELETE FROM units WHERE unit = ?", (unit,))
            continue
        current = conn.execute(
            "SELECT cert_root, cert_target, owners, since, since_block, case_id FROM titles "
            "WHERE unit = ? AND superseded_block IS NULL ORDER BY since_block DESC LIMIT 1",
            (unit,),
        ).fetchone()
        if current is None:  # revoked by a correction, not registered again
            ended = conn.execute(
                "SELECT superseded_at, superseded_block, superseded_case FROM titles WHERE unit = ? "
                "ORDER BY superseded_block DESC LIMIT 1",
                (unit,),
            ).fetchone()
            current = (ZERO32, ZERO32, "[]", *ended)
        conn.execute(
            f"INSERT OR REPLACE INTO units ({UNIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (unit, *registration, *current),
        )


__all__ = ["Applied", "apply_events", "known_signers", "rollback_above"]
