"""Run the relay: ``python -m registry_api [--host 127.0.0.1] [--port 8100]``.

Configuration comes from EREG_* variables (see registry_api/settings.py). One process: the
SQLite queue has one batcher.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m registry_api", description="e-Registry relay service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    uvicorn.run(
        "registry_api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_level=args.log_level,
        proxy_headers=False,
        access_log=False,  # the app's own access log (JSON lines with the request id) says it once
        log_config=None,  # the app configures logging (JSON lines on stderr) when it is created
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
