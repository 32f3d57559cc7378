"""The index's read queries: what verification asks on its hot path, answered from SQLite alone.

A root anchored again by its department (its first anchor's key was outside its window) is a fresh
record: the latest anchor is the record, and only the status changes made after it count. The
status in force is computed when read, as the contract does: the newest change whose signer is no
department key (governance, the PropertyRegistry) or a key whose *current* window (after every
SignerKeyRetired, backdated ones included) contains the change's block time; changes by a key
outside its window are voided. Computing it when read, not when written, is what lets a backdated
retirement void changes already indexed.

:class:`IndexReads` holds the queries over one connection; :class:`chainindex.ChainIndex` reads
through it with one read connection per thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from chain.types import ZERO32
from chainindex.records import (
    AnchorRecord,
    CertificateLink,
    DepartmentRecord,
    Head,
    MortgageRecord,
    PropertyEventRecord,
    RecordStatus,
    SeizureRecord,
    SignerKeyRecord,
    StatusEvent,
    TitleRecord,
    UnitRecord,
    anchor_record,
    certificate_link,
    department_record,
    mortgage_record,
    property_event_record,
    seizure_record,
    signer_key_record,
    status_event,
    title_record,
    unit_record,
)
from chainindex.schema import (
    ANCHOR_COLUMNS,
    MORTGAGE_COLUMNS,
    PROPERTY_EVENT_COLUMNS,
    SEIZURE_COLUMNS,
    STATUS_COLUMNS,
    TITLE_COLUMNS,
    UNIT_COLUMNS,
    read_cursor,
)

#: The record of (department, root): its latest anchor (a later one is only made when the earlier
#: one's key was outside its window, so the latest is the chain's record).
_Q_ANCHOR = (
    f"SELECT {ANCHOR_COLUMNS} FROM anchors WHERE department = ? AND root = ? "  # noqa: S608 - constants
    "ORDER BY block_number DESC, log_index DESC LIMIT 1"
)
_Q_ANCHOR_HISTORY = (
    f"SELECT {ANCHOR_COLUMNS} FROM anchors WHERE department = ? AND root = ? "  # noqa: S608 - constants
    "ORDER BY block_number, log_index"
)
_Q_ANCHORS_OF_ROOT = f"SELECT {ANCHOR_COLUMNS} FROM anchors WHERE root = ? ORDER BY block_number, log_index"  # noqa: S608
_S_STATUS_COLUMNS = ", ".join(f"s.{c.strip()}" for c in STATUS_COLUMNS.split(","))
#: The changes of a record made after its anchor, newest first, each with its signer's current
#: window (NULL when the signer is no key the index knows).
_Q_RECORD_CHANGES = (
    f"SELECT {_S_STATUS_COLUMNS}, k.valid_from, k.valid_until FROM status_events s "  # noqa: S608 - constants
    "LEFT JOIN signer_keys k ON k.signer = s.signer "
    "WHERE s.department = ? AND s.root = ? AND s.target_hash IN (?, ?) AND (s.block_number, s.log_index) > (?, ?) "
    "ORDER BY s.block_number DESC, s.log_index DESC"
)
_Q_TITLE_LOCK = (
    "SELECT block_number, log_index FROM title_locks WHERE department = ? AND root = ? AND target_hash = ? "
    "AND (block_number, log_index) > (?, ?) ORDER BY block_number DESC, log_index DESC LIMIT 1"
)
_Q_DEPARTMENT = (
    "SELECT id, name, credit_code, idx, roles, active, registered_block, registered_at FROM departments WHERE id = ?"
)
_Q_SIGNER = "SELECT signer, department, valid_from, valid_until, added_block FROM signer_keys WHERE signer = ?"
_Q_TYPE_NAME = "SELECT name FROM document_types WHERE id = ?"
_Q_AUTHORIZED = "SELECT authorized FROM department_types WHERE department = ? AND doc_type = ?"
_Q_UNIT = f"SELECT {UNIT_COLUMNS} FROM units WHERE unit = ?"  # noqa: S608 - constants
_Q_TITLES_OF_UNIT = f"SELECT {TITLE_COLUMNS} FROM titles WHERE unit = ? ORDER BY since_block, since"  # noqa: S608
_Q_TITLES_BY_TARGET = f"SELECT {TITLE_COLUMNS} FROM titles WHERE cert_target = ? ORDER BY since_block"  # noqa: S608
_Q_MORTGAGES = f"SELECT {MORTGAGE_COLUMNS} FROM mortgages WHERE unit = ? ORDER BY mortgage_id"  # noqa: S608
_Q_MORTGAGES_BY_TARGET = (
    f"SELECT {MORTGAGE_COLUMNS} FROM mortgages WHERE cert_target = ? "  # noqa: S608 - constants
    "ORDER BY registered_block, registered_at"
)
_Q_SEIZURES = f"SELECT {SEIZURE_COLUMNS} FROM seizures WHERE unit = ? ORDER BY seizure_id"  # noqa: S608
_Q_PROPERTY_EVENTS = (
    f"SELECT {PROPERTY_EVENT_COLUMNS} FROM property_events WHERE unit = ? "  # noqa: S608 - constants
    "ORDER BY block_number, log_index"
)
_Q_CASE_EVENTS = (
    f"SELECT {PROPERTY_EVENT_COLUMNS} FROM property_events WHERE case_id = ? "  # noqa: S608 - constants
    "ORDER BY block_number, log_index"
)
_Q_CERTIFICATE_UNITS = (
    "SELECT cert_target, unit, kind, case_id, block_number, log_index FROM certificate_units "
    "WHERE cert_target = ? ORDER BY block_number, log_index"
)
#: The tables of derived state a snapshot dumps, each with its canonical order.
_SNAPSHOT_TABLES = {
    "departments": "id",
    "signer_keys": "signer",
    "document_types": "id",
    "department_types": "department, doc_type",
    "anchors": "block_number, log_index",
    "status_events": "block_number, log_index",
    "title_locks": "block_number, log_index",
    "governance_events": "block_number, log_index",
    "property_events": "block_number, log_index",
    "units": "unit",
    "titles": "unit, cert_target",
    "mortgages": "unit, mortgage_id",
    "seizures": "unit, seizure_id",
    "certificate_units": "block_number, log_index",
}


class IndexReads:
    """The read queries of an index, over ``connection`` or what a subclass's :meth:`_reader` gives."""

    def __init__(self, connection: sqlite3.Connection | None = None) -> None:
        self._connection = connection

    def _reader(self) -> sqlite3.Connection:
        """The connection to read on."""
        if self._connection is None:
            raise RuntimeError("these reads have no connection")
        return self._connection

    # ------------------------------------------------------------------- document reads
    def anchor(self, department: bytes, root: bytes) -> AnchorRecord | None:
        """The record of ``root`` anchored by ``department``: its latest anchor, or None."""
        row = self._reader().execute(_Q_ANCHOR, (department, root)).fetchone()
        return None if row is None else anchor_record(row)

    def anchor_history(self, department: bytes, root: bytes) -> list[AnchorRecord]:
        """Every anchor of ``root`` by ``department``, oldest first (more than one only when an
        anchor's key was outside its window and the department anchored the root again)."""
        rows = self._reader().execute(_Q_ANCHOR_HISTORY, (department, root)).fetchall()
        return [anchor_record(row) for row in rows]

    def anchors_of_root(self, root: bytes) -> list[AnchorRecord]:
        """The record of ``root`` of every department that anchored it, oldest first."""
        latest: dict[bytes, AnchorRecord] = {}
        for row in self._reader().execute(_Q_ANCHORS_OF_ROOT, (root,)).fetchall():
            record = anchor_record(row)
            latest[record.department] = record
        return sorted(latest.values(), key=lambda a: (a.block_number, a.log_index))

    def statuses(self, anchor: AnchorRecord, target_hash: bytes = ZERO32) -> tuple[RecordStatus, RecordStatus]:
        """(batch, document) status in force of the record ``anchor`` is, in one query (the
        document's is the batch's when ``target_hash`` is zero)."""
        rows = (
            self._reader()
            .execute(
                _Q_RECORD_CHANGES,
                (anchor.department, anchor.root, ZERO32, target_hash, anchor.block_number, anchor.log_index),
            )
            .fetchall()
        )
        batch = _in_force([row for row in rows if row[2] == ZERO32])
        if target_hash == ZERO32:
            return batch, batch
        return batch, _in_force([row for row in rows if row[2] == target_hash])

    def record_status(self, department: bytes, root: bytes, target_hash: bytes = ZERO32) -> RecordStatus | None:
        """The status in force of a batch (``target_hash`` zero) or document; None when not anchored."""
        anchor = self.anchor(department, root)
        if anchor is None:
            return None
        return self.statuses(anchor, target_hash)[1]

    def batch_status(self, department: bytes, root: bytes) -> StatusEvent | None:
        """The status change in force of the whole batch, or None (active if anchored)."""
        return self.document_status(department, root, ZERO32)

    def document_status(self, department: bytes, root: bytes, target_hash: bytes) -> StatusEvent | None:
        """The status change in force of one document (``target_hash`` zero: the batch), or None."""
        status = self.record_status(department, root, target_hash)
        return None if status is None else status.current

    def status_history(self, department: bytes, root: bytes, target_hash: bytes = ZERO32) -> list[StatusEvent]:
        """Every status change of the record (of its latest anchor), oldest first, voided ones marked."""
        anchor = self.anchor(department, root)
        if anchor is None:
            return []
        rows = (
            self._reader()
            .execute(
                _Q_RECORD_CHANGES,
                (department, root, target_hash, target_hash, anchor.block_number, anchor.log_index),
            )
            .fetchall()
        )
        return [status_event(row, voided=_voided(row) is True) for row in reversed(rows)]

    def title_locked(self, department: bytes, root: bytes, target_hash: bytes) -> bool:
        """Whether the document is locked as a unit's title (or an active mortgage's certificate):
        locked after its latest TitleLocked, until a status change (replacement, revocation)."""
        anchor = self.anchor(department, root)
        if anchor is None or target_hash == ZERO32:
            return False
        conn = self._reader()
        after = (anchor.block_number, anchor.log_index)
        lock = conn.execute(_Q_TITLE_LOCK, (department, root, target_hash, *after)).fetchone()
        if lock is None:
            return False
        rows = conn.execute(_Q_RECORD_CHANGES, (department, root, target_hash, target_hash, *lock)).fetchall()
        return not rows

    # ----------------------------------------------------------------- governance reads
    def department(self, dept_id: bytes) -> DepartmentRecord | None:
        row = self._reader().execute(_Q_DEPARTMENT, (dept_id,)).fetchone()
        return None if row is None else department_record(row)

    def signer_key(self, address: str) -> SignerKeyRecord | None:
        row = self._reader().execute(_Q_SIGNER, (address.lower(),)).fetchone()
        return None if row is None else signer_key_record(row)

    def type_name(self, doc_type: bytes) -> str | None:
        row = self._reader().execute(_Q_TYPE_NAME, (doc_type,)).fetchone()
        return None if row is None else str(row[0])

    def is_authorized(self, dept_id: bytes, doc_type: bytes) -> bool:
        """Whether the department may currently issue the document type."""
        row = self._reader().execute(_Q_AUTHORIZED, (dept_id, doc_type)).fetchone()
        return row is not None and bool(row[0])

    def head(self) -> Head:
        """The last indexed block (number, hash) and the wall time of the last successful sync."""
        return Head(*read_cursor(self._reader()))

    def lag(self, chain_head: int) -> int:
        """Blocks between ``chain_head`` and the last indexed block."""
        return max(0, chain_head - self.head().block_number)

    # ------------------------------------------------------------------- property reads
    def property_unit(self, unit: bytes) -> UnitRecord | None:
        """A registered unit and its current title, or None."""
        row = self._reader().execute(_Q_UNIT, (unit,)).fetchone()
        return None if row is None else unit_record(row)

    def titles(self, unit: bytes) -> list[TitleRecord]:
        """Every certificate the unit ever had, oldest first."""
        return [title_record(row) for row in self._reader().execute(_Q_TITLES_OF_UNIT, (unit,)).fetchall()]

    def titles_by_target(self, cert_target: bytes) -> list[TitleRecord]:
        """The titles whose certificate has this target hash (normally one), oldest first."""
        return [title_record(row) for row in self._reader().execute(_Q_TITLES_BY_TARGET, (cert_target,)).fetchall()]

    def certificate_links(self, cert_target: bytes) -> list[CertificateLink]:
        """Every unit event naming this certificate target (title, case proposal, mortgage), oldest first."""
        rows = self._reader().execute(_Q_CERTIFICATE_UNITS, (cert_target,)).fetchall()
        return [certificate_link(row) for row in rows]

    def mortgages(self, unit: bytes, *, active_only: bool = False) -> list[MortgageRecord]:
        """The unit's mortgages by id (released ones too unless ``active_only``)."""
        found = [mortgage_record(row) for row in self._reader().execute(_Q_MORTGAGES, (unit,)).fetchall()]
        return [m for m in found if m.active] if active_only else found

    def mortgages_by_target(self, cert_target: bytes) -> list[MortgageRecord]:
        """The mortgages this mortgage certificate evidences (the registry takes each certificate
        once: at most one), oldest first."""
        rows = self._reader().execute(_Q_MORTGAGES_BY_TARGET, (cert_target,)).fetchall()
        return [mortgage_record(row) for row in rows]

    def seizures(self, unit: bytes, *, active_only: bool = False) -> list[SeizureRecord]:
        """The unit's seizures by id (released ones too unless ``active_only``)."""
        found = [seizure_record(row) for row in self._reader().execute(_Q_SEIZURES, (unit,)).fetchall()]
        return [z for z in found if z.active] if active_only else found

    def property_events(self, unit: bytes) -> list[PropertyEventRecord]:
        """The unit's chain of title: every event keyed by it, in chain order."""
        return [property_event_record(row) for row in self._reader().execute(_Q_PROPERTY_EVENTS, (unit,)).fetchall()]

    def case_events(self, case_id: int) -> list[PropertyEventRecord]:
        """Every event of one transfer case, in chain order."""
        return [property_event_record(row) for row in self._reader().execute(_Q_CASE_EVENTS, (case_id,)).fetchall()]

    # ------------------------------------------------------------------------- snapshot
    def snapshot(self) -> dict[str, Any]:
        """A canonical dump of all derived state (not the bookkeeping: block hashes, sync time)."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            number, block_hash, _synced = read_cursor(conn)
            dump: dict[str, Any] = {"cursor": {"block_number": number, "block_hash": block_hash}}
            for table, order in _SNAPSHOT_TABLES.items():
                cur = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608 - fixed names
                columns = [d[0] for d in cur.description]
                dump[table] = [
                    {c: ("0x" + v.hex() if isinstance(v, bytes) else v) for c, v in zip(columns, row, strict=True)}
                    for row in cur.fetchall()
                ]
        finally:
            conn.execute("COMMIT")
        return dump


def _voided(row: Sequence[Any]) -> bool | None:
    """Whether a change (a row of _Q_RECORD_CHANGES) is voided: its signer is a department key whose
    current window excludes the change's time. None when undecidable: a department acted through a
    key the index does not know (added before its start block)."""
    valid_from, valid_until = row[14], row[15]
    if valid_from is None:
        # no key: governance or the PropertyRegistry (actor 0), whose changes always count
        return None if row[5] != ZERO32 else False
    at = int(row[13])
    return not (at >= valid_from and (valid_until == 0 or at < valid_until))


def _in_force(rows: Sequence[Sequence[Any]]) -> RecordStatus:
    """The change in force among a record's changes (rows of _Q_RECORD_CHANGES, newest first)."""
    voided = 0
    for row in rows:
        skip = _voided(row)
        if skip is None:
            return RecordStatus(None, voided, decidable=False)
        if not skip:
            return RecordStatus(status_event(row), voided)
        voided += 1
    return RecordStatus(None, voided)


__all__ = ["IndexReads"]
