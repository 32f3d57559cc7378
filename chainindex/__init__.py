"""The chain index: a local SQLite projection of the registries' events.

Verification on the hot path reads only this index: anchors, batch and document statuses,
departments, signer keys and document types, and, when a PropertyRegistry is followed, the chain
of title of property units (units, titles, mortgages, seizures, every event per unit).

The package reads bottom up: :mod:`chainindex.schema` (tables and ``meta``),
:mod:`chainindex.records` (what the index answers), :mod:`chainindex.projection` (decoded events
to rows, and their rollback), :mod:`chainindex.reads` (the queries, and the status in force) and
:mod:`chainindex.sync` (:class:`ChainIndex`: the file, sync, follow and reorganisations). The
logs themselves are decoded by :mod:`chain.logs`.
"""

from chain.logs import PROPERTY_EVENT_SIGNATURES, PROPERTY_EVENTS
from chainindex.records import (
    CASE_PROPOSALS,
    CASE_STATE_AFTER,
    AnchorRecord,
    CertificateLink,
    DepartmentRecord,
    Head,
    MortgageRecord,
    OwnerShare,
    PropertyEventRecord,
    RecordStatus,
    SeizureRecord,
    SignerKeyRecord,
    StatusEvent,
    SyncResult,
    TitleRecord,
    UnitRecord,
)
from chainindex.sync import ChainIndex

__all__ = [
    "CASE_PROPOSALS",
    "CASE_STATE_AFTER",
    "PROPERTY_EVENTS",
    "PROPERTY_EVENT_SIGNATURES",
    "AnchorRecord",
    "CertificateLink",
    "ChainIndex",
    "DepartmentRecord",
    "Head",
    "MortgageRecord",
    "OwnerShare",
    "PropertyEventRecord",
    "RecordStatus",
    "SeizureRecord",
    "SignerKeyRecord",
    "StatusEvent",
    "SyncResult",
    "TitleRecord",
    "UnitRecord",
]
