"""The index's SQLite schema: its tables, their columns, and the ``meta`` that says whose it is.

The schema is versioned in ``meta`` together with what the file indexes (the registry, the
property registry, the start block); a mismatch drops and rebuilds the file, so a file written
by another version or for another registry is never read as this one's. Changing a table here
means raising :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

SCHEMA_VERSION = 3

#: Every table of the schema (dropped in this order before the schema is created again).
TABLES = (
    "meta",
    "cursor",
    "block_hashes",
    "governance_events",
    "departments",
    "signer_keys",
    "document_types",
    "department_types",
    "anchors",
    "status_events",
    "title_locks",
    "property_events",
    "units",
    "titles",
    "mortgages",
    "seizures",
    "certificate_units",
)

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    block_hash TEXT,
    synced_at REAL
);
CREATE TABLE block_hashes (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE governance_events (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE TABLE departments (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    idx INTEGER NOT NULL,
    roles INTEGER NOT NULL,
    active INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    registered_at INTEGER NOT NULL
);
CREATE TABLE signer_keys (
    signer TEXT PRIMARY KEY,
    department BLOB NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    added_block INTEGER NOT NULL
);
CREATE TABLE document_types (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    registered_block INTEGER NOT NULL
);
CREATE TABLE department_types (
    department BLOB NOT NULL,
    doc_type BLOB NOT NULL,
    authorized INTEGER NOT NULL,
    changed_block INTEGER NOT NULL,
    PRIMARY KEY (department, doc_type)
);
CREATE TABLE anchors (
    department BLOB NOT NULL,
    root BLOB NOT NULL,
    signer TEXT NOT NULL,
    doc_type BLOB NOT NULL,
    count INTEGER NOT NULL,
    anchored_at INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX anchors_key ON anchors (department, root, block_number, log_index);
CREATE INDEX anchors_root ON anchors (root);
CREATE TABLE status_events (
    department BLOB NOT NULL,
    root BLOB NOT NULL,
    target_hash BLOB NOT NULL,
    action INTEGER NOT NULL,
    reason INTEGER NOT NULL,
    actor BLOB NOT NULL,
    signer TEXT NOT NULL,
    successor_root BLOB NOT NULL,
    successor BLOB NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX status_events_key ON status_events (department, root, target_hash, block_number, log_index);
CREATE TABLE title_locks (
    department BLOB NOT NULL,
    root BLOB NOT NULL,
    target_hash BLOB NOT NULL,
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX title_locks_key ON title_locks (department, root, target_hash, block_number, log_index);
CREATE TABLE property_events (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    unit BLOB NOT NULL,
    name TEXT NOT NULL,
    case_id INTEGER,
    department BLOB,
    args TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX property_events_unit ON property_events (unit, block_number, log_index);
CREATE INDEX property_events_case ON property_events (case_id, block_number, log_index) WHERE case_id IS NOT NULL;
CREATE TABLE units (
    unit BLOB PRIMARY KEY,
    registered_by BLOB NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    cert_root BLOB NOT NULL,
    cert_target BLOB NOT NULL,
    owners TEXT NOT NULL,
    since INTEGER NOT NULL,
    since_block INTEGER NOT NULL,
    case_id INTEGER
);
CREATE TABLE titles (
    unit BLOB NOT NULL,
    cert_target BLOB NOT NULL,
    cert_root BLOB NOT NULL,
    case_id INTEGER,
    owners TEXT NOT NULL,
    since INTEGER NOT NULL,
    since_block INTEGER NOT NULL,
    superseded_by BLOB,
    superseded_at INTEGER,
    superseded_block INTEGER,
    superseded_case INTEGER,
    end_reason INTEGER,
    PRIMARY KEY (unit, cert_target)
);
CREATE INDEX titles_target ON titles (cert_target);
CREATE TABLE mortgages (
    unit BLOB NOT NULL,
    mortgage_id INTEGER NOT NULL,
    bank BLOB NOT NULL,
    cert_root BLOB NOT NULL,
    cert_target BLOB NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    released_at INTEGER,
    released_block INTEGER,
    PRIMARY KEY (unit, mortgage_id)
);
CREATE INDEX mortgages_target ON mortgages (cert_target);
CREATE TABLE seizures (
    unit BLOB NOT NULL,
    seizure_id INTEGER NOT NULL,
    court BLOB NOT NULL,
    ruling BLOB NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    released_at INTEGER,
    released_block INTEGER,
    PRIMARY KEY (unit, seizure_id)
);
CREATE TABLE certificate_units (
    cert_target BLOB NOT NULL,
    unit BLOB NOT NULL,
    kind TEXT NOT NULL,
    case_id INTEGER,
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX certificate_units_target ON certificate_units (cert_target);
"""

#: Column lists in the order the readers' row converters (chainindex.records) expect.
ANCHOR_COLUMNS = "root, signer, department, doc_type, count, anchored_at, block_number, tx_hash, log_index"
STATUS_COLUMNS = (
    "department, root, target_hash, action, reason, actor, signer, successor_root, successor, "
    "block_number, block_hash, tx_hash, log_index, timestamp"
)
UNIT_COLUMNS = (
    "unit, registered_by, registered_at, registered_block, cert_root, cert_target, owners, since, since_block, case_id"
)
TITLE_COLUMNS = (
    "unit, cert_target, cert_root, case_id, owners, since, since_block, "
    "superseded_by, superseded_at, superseded_block, superseded_case, end_reason"
)
MORTGAGE_COLUMNS = (
    "unit, mortgage_id, bank, cert_root, cert_target, registered_at, registered_block, released_at, released_block"
)
SEIZURE_COLUMNS = "unit, seizure_id, court, ruling, registered_at, registered_block, released_at, released_block"
PROPERTY_EVENT_COLUMNS = (
    "block_number, log_index, unit, name, case_id, department, args, block_hash, tx_hash, timestamp"
)
_Q_CURSOR = "SELECT block_number, block_hash, synced_at FROM cursor WHERE id = 1"


def expected_meta(registry_address: str, property_address: str | None, start_block: int) -> dict[str, str]:
    """The ``meta`` of an index of these registries from ``start_block``, in this schema version."""
    return {
        "schema_version": str(SCHEMA_VERSION),
        "registry_address": registry_address,
        "property_address": property_address or "",
        "start_block": str(start_block),
    }


def stored_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The file's ``meta``; empty when it has none (a new file, or one that is no index)."""
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:
        return {}


def has_meta(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    return row is not None


def create_tables(conn: sqlite3.Connection) -> None:
    """Drop every table of the schema and create them empty (inside the caller's transaction)."""
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in DDL.split(";"):
        if statement.strip():
            conn.execute(statement)


def install(conn: sqlite3.Connection, meta: Mapping[str, str], start_block: int) -> None:
    """A fresh schema with ``meta`` and the cursor just below ``start_block`` (caller's transaction)."""
    create_tables(conn)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
    conn.execute(
        "INSERT INTO cursor (id, block_number, block_hash, synced_at) VALUES (1, ?, NULL, NULL)",
        (start_block - 1,),
    )


def clear(conn: sqlite3.Connection) -> None:
    """Delete every indexed row, keeping ``meta`` and the cursor row (caller's transaction)."""
    for table in TABLES:
        if table not in ("meta", "cursor"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names


def read_cursor(conn: sqlite3.Connection) -> tuple[int, str | None, float | None]:
    """The last indexed block (number, hash) and the wall time of the last successful sync."""
    number, block_hash, synced_at = conn.execute(_Q_CURSOR).fetchone()
    return int(number), block_hash, synced_at


__all__ = [
    "ANCHOR_COLUMNS",
    "DDL",
    "MORTGAGE_COLUMNS",
    "PROPERTY_EVENT_COLUMNS",
    "SCHEMA_VERSION",
    "SEIZURE_COLUMNS",
    "STATUS_COLUMNS",
    "TABLES",
    "TITLE_COLUMNS",
    "UNIT_COLUMNS",
    "clear",
    "create_tables",
    "expected_meta",
    "has_meta",
    "install",
    "read_cursor",
    "stored_meta",
]
