#!/usr/bin/env python3
"""Install the Debian packages the test suite and the demo use, where they are missing.

Only packages whose command is absent are installed, with apt-get (as root, as CI runs);
elsewhere the missing ones are listed with the command to install them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

#: command on PATH -> Debian package that provides it
PACKAGES: dict[str, str] = {}


def main() -> int:
    missing = sorted({pkg for cmd, pkg in PACKAGES.items() if shutil.which(cmd) is None})
    if not missing:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"missing Debian packages: {' '.join(missing)} (install: sudo apt-get install {' '.join(missing)})")
        return 0
    print(f"installing Debian packages: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
