"""Run the verifier: ``python -m verifier [--host 127.0.0.1] [--port 8000] [--workers 1]``.

Configuration comes from EREG_* variables (see verifier/settings.py). With several workers,
one of them follows the chain into the index (an flock decides) and all of them read it.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m verifier", description="e-Registry verifier service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    uvicorn.run(
        "verifier.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        # Request lines carry paths only (a QR key lives in the URL fragment, never sent).
        access_log=True,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
