"""Throughput check for wrap + encrypt (not a test; run by hand).

.venv/bin/python tests/documents/bench_wrap.py [count]
"""

from __future__ import annotations

import sys
import time

from documents import document_to_bytes, seal, wrap_batch
from documents.hashing import KECCAK_BACKEND
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence


def main(count: int) -> None:
    records = [sample_business_licence(i) for i in range(count)]
    for check_schema in (False, True):
        t0 = time.perf_counter()
        batch = wrap_batch(
            records, "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=check_schema
        )
        t1 = time.perf_counter()
        blobs = [seal(document_to_bytes(doc)) for doc in batch.documents]
        t2 = time.perf_counter()
        size = sum(len(b) for _, b in blobs) / count
        sys.stdout.write(
            f"keccak={KECCAK_BACKEND} schema={check_schema} n={count}: "
            f"wrap {count / (t1 - t0):,.0f}/s, encrypt {count / (t2 - t1):,.0f}/s, "
            f"wrap+encrypt {count / (t2 - t0):,.0f} docs/s, mean blob {size:.0f} B\n"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
