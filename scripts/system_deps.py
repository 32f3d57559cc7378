#!/usr/bin/env python3
"""Install the Debian packages the test suite and the demo use, where they are missing.

Only packages whose command (or file, or for fonts, whose language) is absent are installed,
with apt-get (as root, as CI runs); elsewhere the missing ones are listed with the command to
install them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

#: command on PATH -> Debian package that provides it
PACKAGES: dict[str, str] = {"chromium": "chromium", "zbarimg": "zbar-tools"}
#: file path pattern (for commands off PATH) -> Debian package that provides it; the PostgreSQL
#: server the relay's queue tests start lives in a versioned directory
PATHS: dict[str, str] = {"/usr/lib/postgresql/*/bin/postgres": "postgresql"}
#: fontconfig language -> Debian font package covering it (the citizen page is in Chinese;
#: without such a font Chromium draws its text as boxes)
FONTS: dict[str, str] = {"zh": "fonts-noto-cjk"}


def font_missing(lang: str) -> bool:
    """No installed font covers ``lang`` (as fontconfig sees it; no fc-list counts as none)."""
    if shutil.which("fc-list") is None:
        return True
    found = subprocess.run(["fc-list", f":lang={lang}", "family"], capture_output=True, text=True, check=False)
    return found.returncode != 0 or not found.stdout.strip()


def path_missing(pattern: str) -> bool:
    """No executable file matches ``pattern``."""
    return not any(os.access(path, os.X_OK) for path in glob.glob(pattern))


def apt_install(packages: list[str]) -> bool:
    """Install Debian ``packages`` with apt-get; False (and how to, printed) where that cannot run here."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"missing Debian packages: {' '.join(packages)} (install: sudo apt-get install {' '.join(packages)})")
        return False
    print(f"installing Debian packages: {' '.join(packages)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return True


def main() -> int:
    missing = sorted(
        {pkg for cmd, pkg in PACKAGES.items() if shutil.which(cmd) is None}
        | {pkg for pattern, pkg in PATHS.items() if path_missing(pattern)}
        | {pkg for lang, pkg in FONTS.items() if font_missing(lang)}
    )
    if missing:
        apt_install(missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
