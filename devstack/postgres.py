"""A throwaway PostgreSQL cluster for the tests and the local stack (Debian's ``postgresql`` package).

``start_postgres`` runs ``initdb`` into a fresh temporary directory and starts the server with
``pg_ctl``, listening on 127.0.0.1 and a free port only, with its unix socket inside that
directory. Connections over TCP need the superuser's random password (SCRAM); the socket, in a
directory only the server's user can enter, is trusted. PostgreSQL refuses to run as root, so
as root every server command runs as the ``postgres`` system user (created by the Debian
package), which owns the directory. ``stop_postgres`` stops the server with ``pg_ctl stop``
(by its pid if that fails) and removes the directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from devstack.process import DevstackError, free_port, pid_alive, port_open, tail

#: Where Debian installs the server binaries, one directory per major version.
POSTGRES_GLOB = "/usr/lib/postgresql/*/bin/postgres"
#: The system user the server runs as when started by root.
SERVER_USER = "postgres"
SUPERUSER = "ereg"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster."""

    base_dir: Path
    bin_dir: Path
    host: str
    port: int
    user: str
    password: str

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for ``database`` over TCP, with the superuser's password."""
        return f"postgresql://{self.user}:{quote(self.password, safe='')}@{self.host}:{self.port}/{database}"

    def pid(self) -> int | None:
        """The postmaster's pid (first line of ``postmaster.pid``), while the server runs."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None


def find_bin_dir() -> Path | None:
    """The newest installed server's ``bin`` directory, or None when PostgreSQL is not installed."""
    found = [Path(p) for p in Path("/").glob(POSTGRES_GLOB.lstrip("/")) if os.access(p, os.X_OK)]
    if not found:
        return None

    def major(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    return max(found, key=major).parent


def _as_server_user(argv: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(argv)
    if shutil.which("runuser") is None:
        raise DevstackError("runuser is needed to run PostgreSQL as the postgres user")
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _run(argv: Sequence[str], *, cwd: Path, what: str, timeout: float = 120.0) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - argv is built by this module
            _as_server_user(argv),
            cwd=cwd,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevstackError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        raise DevstackError(f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr).strip()[-2000:]}")


def start_postgres(
    parent: Path | None = None, *, port: int | None = None, bin_dir: Path | None = None, timeout: float = 60.0
) -> PostgresServer:
    """Create and start a cluster in a new directory under ``parent`` (default: the system's temp dir).

    As root, ``parent`` must be reachable by the ``postgres`` user (the system temp dir is).
    """
    bin_dir = bin_dir or find_bin_dir()
    if bin_dir is None:
        raise DevstackError(f"PostgreSQL is not installed (no {POSTGRES_GLOB}; Debian package `postgresql`)")
    base_dir = Path(tempfile.mkdtemp(prefix="ereg-postgres-", dir=parent))
    try:
        return _start(base_dir, bin_dir, port or free_port(HOST), timeout)
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


def _start(base_dir: Path, bin_dir: Path, port: int, timeout: float) -> PostgresServer:
    server = PostgresServer(
        base_dir=base_dir, bin_dir=bin_dir, host=HOST, port=port, user=SUPERUSER, password=secrets.token_urlsafe(18)
    )
    server.socket_dir.mkdir(mode=0o700)
    password_file = base_dir / "pwfile"
    password_file.write_text(server.password + "\n")
    password_file.chmod(0o600)
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise DevstackError(f"no `{SERVER_USER}` user: install the Debian package `postgresql`") from exc
        for path in (base_dir, server.socket_dir, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    _run(
        [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(server.data_dir),
            "--username",
            SUPERUSER,
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",  # the cluster is thrown away; commits made later are still fsynced
        ],
        cwd=base_dir,
        what="initdb",
    )
    password_file.unlink()
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(port),
        "unix_socket_directories": f"'{server.socket_dir}'",
        "max_connections": "200",
        "fsync": "on",
        "synchronous_commit": "on",
    }
    with (server.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# devstack.postgres\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    _pg_ctl_start(server, timeout)
    if not port_open(HOST, port, timeout=2.0):
        stop_postgres(server, remove=False)
        raise DevstackError(f"PostgreSQL is not listening on {HOST}:{port}; see {server.log_file}")
    return server


def create_database(server: PostgresServer, name: str) -> str:
    """Create the empty database ``name`` (letters, digits, underscores) and return its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise DevstackError(f"not a plain database name: {name!r}")
    try:
        with psycopg.connect(server.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise DevstackError(f"cannot create database {name}: {exc}") from exc
    return server.url(name)


def stop_postgres(server: PostgresServer, *, remove: bool = True, timeout: float = 30.0) -> bool:
    """Stop the server (fast shutdown) and, with ``remove``, delete its directory; True if it ran."""
    pid = server.pid()
    running = pid is not None and pid_alive(pid)
    if running:
        try:
            _run(
                [str(server.bin_dir / "pg_ctl"), "--pgdata", str(server.data_dir), "--mode=fast", "--wait", "stop"],
                cwd=server.base_dir,
                what="pg_ctl stop",
                timeout=timeout,
            )
        except DevstackError:
            if pid is not None:
                _stop_pid(pid)
    if remove:
        shutil.rmtree(server.base_dir, ignore_errors=True)
    return running


def restart_postgres(server: PostgresServer, timeout: float = 60.0) -> None:
    """Stop (fast: open connections are cut) and start the same cluster again, on the same port."""
    stop_postgres(server, remove=False)
    _pg_ctl_start(server, timeout)


def _pg_ctl_start(server: PostgresServer, timeout: float) -> None:
    try:
        _run(
            [
                str(server.bin_dir / "pg_ctl"),
                "--pgdata",
                str(server.data_dir),
                "--log",
                str(server.log_file),
                "--wait",
                f"--timeout={int(timeout)}",
                "start",
            ],
            cwd=server.base_dir,
            what="pg_ctl start",
            timeout=timeout + 10,
        )
    except DevstackError as exc:
        raise DevstackError(f"{exc}\n{server.log_file}:\n{tail(server.log_file)}") from exc


def _stop_pid(pid: int) -> None:
    """The server did not stop through pg_ctl: immediate shutdown, then SIGKILL."""
    for sig, wait in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)
