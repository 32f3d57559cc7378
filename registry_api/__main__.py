"""Run the relay: ``python -m registry_api [--host 127.0.0.1] [--port 8100]``.

Configuration comes from EREG_* variables (see registry_api/settings.py). One process per
SQLite queue (it has one batcher); several on one PostgreSQL queue, each with its own relayer
key. The settings, the relayer key and the queue (holding that key) are taken before the
server starts, so a service that cannot run says why in one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn
from pydantic import ValidationError

from common.errors import EregError


def _refuse(code: str, message: str, message_zh: str) -> int:
    print(f"relay cannot start: {code}: {message} / 中继无法启动：{message_zh}", file=sys.stderr)
    return 2


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m registry_api", description="e-Registry relay service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()

    from registry_api.app import create_app
    from registry_api.runtime import open_held_queue
    from registry_api.settings import get_settings

    try:
        settings = get_settings()
        account = settings.relayer_account()
        queue = open_held_queue(settings, account)
    except ValidationError as exc:
        problems = "; ".join(
            f"EREG_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}" for error in exc.errors()
        )
        return _refuse("SETTINGS_INVALID", problems, "EREG_* 配置无效或缺失")
    except EregError as exc:
        return _refuse(exc.code, exc.message, exc.message_zh)
    except (OSError, ValueError) as exc:  # the keystore: missing, unreadable, or the wrong password
        return _refuse("RELAYER_KEY_UNREADABLE", str(exc), "无法读取或解密中继账户密钥")
    uvicorn.run(
        create_app(settings, relayer=account, queue=queue),
        host=args.host,
        port=args.port,
        workers=1,
        log_level=args.log_level,
        proxy_headers=False,
        access_log=False,  # the app's own access log (JSON lines with the request id) says it once
        log_config=None,  # the app configured logging (JSON lines on stderr) when it was created
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
