#!/usr/bin/env python3
"""Compile contracts/*.sol into contracts/build/<Contract>.json (committed artifacts).

Usage: python scripts/compile_contracts.py [--check]
  --check  compile and exit 1 if the committed artifacts differ from a fresh compile
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain.artifacts import ARTIFACTS_DIR
from chain.compiler import CompileError, compile_all, write_artifacts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if committed artifacts are stale"
    )
    args = parser.parse_args()
    try:
        artifacts = compile_all()
    except CompileError as exc:
        print(f"compile failed: {exc}", file=sys.stderr)
        return 1
    if args.check:
        stale = []
        for name, artifact in artifacts.items():
            path = ARTIFACTS_DIR / f"{name}.json"
            if not path.exists() or json.loads(path.read_text()) != artifact:
                stale.append(name)
        if stale:
            print(
                f"stale artifacts: {', '.join(stale)}; run scripts/compile_contracts.py",
                file=sys.stderr,
            )
            return 1
        print("artifacts are fresh")
        return 0
    for path in write_artifacts(artifacts):
        size = (len(artifacts[path.stem]["deployedBytecode"]) - 2) // 2
        print(f"wrote {path.relative_to(ARTIFACTS_DIR.parents[1])} ({size:,} bytes deployed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
