"""The queue's schemas before request ids were random: requests known by their counter alone.

Frozen copies (SQLite file, PostgreSQL database) for the migration tests: a store made by an
older relay must open under this one, each of its requests given a random id.
"""

SQLITE_V1 = """
CREATE TABLE IF NOT EXISTS requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('anchor', 'status')),
    payload      TEXT NOT NULL,
    signer       TEXT NOT NULL,
    department   TEXT NOT NULL,
    root         TEXT NOT NULL,
    target       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL UNIQUE,
    conflict_key TEXT NOT NULL,
    deadline     INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('QUEUED', 'SUBMITTED', 'ANCHORED', 'FINAL', 'REJECTED')),
    tx_hash      TEXT,
    block        INTEGER,
    reason       TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_state ON requests (kind, state, id);
CREATE INDEX IF NOT EXISTS requests_root ON requests (root);
CREATE INDEX IF NOT EXISTS requests_conflict ON requests (conflict_key);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    nonce      INTEGER NOT NULL,
    raw        BLOB NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('PREPARED', 'SENT', 'MINED', 'FAILED')),
    block      INTEGER,
    error      TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state, created_at);
CREATE TABLE IF NOT EXISTS transaction_requests (
    tx_hash    TEXT NOT NULL REFERENCES transactions (tx_hash),
    request_id INTEGER NOT NULL REFERENCES requests (id),
    PRIMARY KEY (tx_hash, request_id)
);
CREATE INDEX IF NOT EXISTS transaction_requests_request ON transaction_requests (request_id);
CREATE INDEX IF NOT EXISTS requests_department ON requests (department, state);
CREATE TABLE IF NOT EXISTS property_steps (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    signer     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    digest     TEXT NOT NULL,
    tx_hash    TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (signer, nonce)
);
"""

POSTGRES_V1 = """
CREATE TABLE IF NOT EXISTS requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('anchor', 'status')),
    payload       TEXT NOT NULL,
    signer        TEXT NOT NULL,
    department    TEXT NOT NULL,
    root          TEXT NOT NULL,
    target        TEXT NOT NULL,
    dedup_key     TEXT NOT NULL UNIQUE,
    conflict_key  TEXT NOT NULL,
    deadline      BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('QUEUED', 'SUBMITTED', 'ANCHORED', 'FINAL', 'REJECTED')),
    tx_hash       TEXT,
    block         BIGINT,
    reason        TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    DOUBLE PRECISION NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL,
    claimed_by    TEXT,
    claim_expires TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS requests_state ON requests (kind, state, id);
CREATE INDEX IF NOT EXISTS requests_root ON requests (root);
CREATE INDEX IF NOT EXISTS requests_tx ON requests (tx_hash);
CREATE UNIQUE INDEX IF NOT EXISTS requests_live_conflict ON requests (kind, conflict_key) WHERE state <> 'REJECTED';
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    nonce      BIGINT NOT NULL,
    raw        BYTEA NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('PREPARED', 'SENT', 'MINED', 'FAILED')),
    block      BIGINT,
    error      TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state, created_at);
CREATE TABLE IF NOT EXISTS transaction_requests (
    tx_hash    TEXT NOT NULL REFERENCES transactions (tx_hash),
    request_id BIGINT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (tx_hash, request_id)
);
CREATE INDEX IF NOT EXISTS transaction_requests_request ON transaction_requests (request_id);
CREATE INDEX IF NOT EXISTS requests_department ON requests (department, state);
CREATE TABLE IF NOT EXISTS property_steps (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signer     TEXT NOT NULL,
    nonce      NUMERIC(78) NOT NULL,
    digest     TEXT NOT NULL,
    tx_hash    TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    UNIQUE (signer, nonce)
);
"""
