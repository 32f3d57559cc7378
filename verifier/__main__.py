"""Run the verifier: ``python -m verifier [--host 127.0.0.1] [--port 8000] [--workers 1]``.

Configuration comes from EREG_* variables (see verifier/settings.py). With several workers,
one of them follows the chain into the index (an flock decides) and all of them read it.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m verifier", description="e-Registry verifier service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default=None, help="default: EREG_LOG_LEVEL, else INFO")
    args = parser.parse_args()
    if args.log_level:
        os.environ["EREG_LOG_LEVEL"] = args.log_level.upper()  # the worker processes read it too
    level = os.environ.get("EREG_LOG_LEVEL", "INFO").upper()
    uvicorn.run(
        "verifier.app:create_service",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=level.lower(),
        # JSON lines from httpkit.logs: uvicorn installs no handlers of its own, and its access
        # log is off (the app's AccessLog writes one line per request: method, path, status,
        # duration, request id; a QR key lives in the URL fragment, never sent)
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
