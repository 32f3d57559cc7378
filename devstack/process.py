"""Background processes of the local stack: start detached, record a pid file, stop by pid.

Every service of the local stack (Hardhat node, js-ipfs daemon) is a child process started
in its own session, so that stopping it also stops whatever it spawned. Processes are only
ever stopped by the pid this module recorded, never by name or port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class DevstackError(RuntimeError):
    """A local-stack service could not be started or stopped."""


@dataclass(frozen=True)
class ManagedProcess:
    """A service process started by :func:`start_process`."""

    name: str
    pid: int
    pid_file: Path
    log_file: Path

    def alive(self) -> bool:
        return pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    try:
        waited, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0  # not our child: fall back to a signal probe
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    run_dir: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ManagedProcess:
    """Start ``argv`` detached in its own process group, logging to ``run_dir/name.log``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    pid_file = run_dir / f"{name}.pid"
    log_file = run_dir / f"{name}.log"
    existing = read_pid(pid_file)
    if existing is not None and pid_alive(existing):
        raise DevstackError(f"{name} is already running (pid {existing}, {pid_file})")
    with log_file.open("ab") as log:
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv is built by this package
                list(argv),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise DevstackError(f"cannot start {name}: {exc}") from exc
    pid_file.write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
    return ManagedProcess(name=name, pid=proc.pid, pid_file=pid_file, log_file=log_file)


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that very process still runs (its start time matches),
    so a stale file (after a crash or a reboot) never names an unrelated process."""
    try:
        pid_text, _, started = pid_file.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if started and _start_time(pid) != started:
        return None
    return pid


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot), or "" when unknown."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may contain spaces; the fields after it are space-separated.
    fields = stat_line.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def wait_until(
    ready: Callable[[], bool],
    *,
    process: ManagedProcess,
    timeout: float,
    what: str,
) -> None:
    """Poll ``ready`` until it is true; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not process.alive():
            raise DevstackError(
                f"{what} exited during start-up; see {process.log_file}:\n{tail(process.log_file)}"
            )
        time.sleep(0.05)
    stop_pid_file(process.pid_file)
    raise DevstackError(
        f"{what} was not ready after {timeout:.0f} s; see {process.log_file}:\n"
        f"{tail(process.log_file)}"
    )


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop_pid_file(pid_file: Path, timeout: float = 10.0) -> bool:
    """Stop the process group recorded in ``pid_file``; True if something was stopped."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    stopped = stop_pid(pid, timeout=timeout)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return stopped


def stop_pid(pid: int, timeout: float = 10.0) -> bool:
    if not pid_alive(pid):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # Our services lead their own session, so the process group id is their pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
