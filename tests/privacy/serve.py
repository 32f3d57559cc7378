"""Serve the relay or the verifier as ``python -m registry_api`` / ``python -m verifier`` do, with
everything a deployment could turn on for logging turned on.

``python -m tests.privacy.serve relay|verifier PORT RAW_LOG``: the same app factory, settings from
EREG_* (the test sets EREG_LOG_LEVEL=DEBUG, so the service's JSON lines on stderr are at DEBUG),
and on top of that: every logger at DEBUG, uvicorn's own access log on, and every log record
also written to RAW_LOG with all its fields (message, arguments, extra fields, exception
traceback), so a value that the JSON formatter happens to leave out still counts.
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from fastapi import FastAPI

#: The attributes every LogRecord has; anything else on a record came as ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RawFormatter(logging.Formatter):
    """Everything a record carries, one record per line (a traceback continues on the next lines)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        return f"{text} args={record.args!r} extra={extra!r}"


def _every_logger_at_debug() -> None:
    """After the factory configured logging: no logger quieter than DEBUG, none disabled
    (``configure_logging`` sets uvicorn.access to WARNING; uvicorn's access log is wanted here)."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            logger.disabled = False
            if logger.level > logging.DEBUG:
                logger.setLevel(logging.DEBUG)


def relay() -> FastAPI:
    from registry_api.app import create_app

    app = create_app()
    _every_logger_at_debug()
    return app


def verifier() -> FastAPI:
    from verifier.app import create_service

    app = create_service()
    _every_logger_at_debug()
    return app


def main(argv: list[str]) -> int:
    service, port, raw_log = argv
    raw = logging.FileHandler(raw_log, encoding="utf-8")
    raw.setFormatter(RawFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(raw)  # configure_logging replaces only its own handler: this one stays
    root.setLevel(logging.DEBUG)
    uvicorn.run(
        {"relay": relay, "verifier": verifier}[service],
        factory=True,
        host="127.0.0.1",
        port=int(port),
        workers=1,
        log_level="debug",
        log_config=None,
        access_log=True,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
