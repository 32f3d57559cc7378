"""A real js-ipfs daemon for the local stack and the tests, reachable on loopback only.

js-ipfs (npm ``ipfs@0.66.1``, the ``jsipfs`` CLI in ``hardhat_local``) speaks the Kubo RPC
API. Its repository lives in ``<run_dir>/ipfs-repo``; the daemon runs ``--offline`` with a
configuration that opens nothing but the API (and, if asked, the gateway) on 127.0.0.1:

* ``Addresses.Swarm = []`` (any swarm address makes ``--offline`` hang on start-up),
  ``Announce``/``NoAnnounce`` empty, the gRPC endpoint (``Addresses.RPC``) disabled;
* no MDNS, no webRTCStar, no bootstrap peers, no delegate routers, no UPnP/NAT-PMP;
* ``--enable-preload=false``: js-ipfs would otherwise announce every added CID to
  ``node*.preload.ipfs.io``.

A fresh repository is created by the daemon itself (``--init-config``), which saves a
second Node start (about 2.5 s) over ``jsipfs init`` followed by the daemon; an existing
repository keeps its blocks and gets the same loopback settings written into its config.

Several independent daemons (for replicated storage) run side by side with
:func:`start_ipfs_nodes`, each in ``<run_dir>/node-<i>`` with its own repository and port; the
daemons are not connected to each other (no swarm). :func:`restart_ipfs` brings one back on the
ports its repository's configuration names, with its blocks and pins; :func:`stop_ipfs` stops
one, :func:`stop_ipfs_nodes` all of a run directory.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.process import (
    DevstackError,
    ManagedProcess,
    free_port,
    pid_alive,
    port_open,
    read_pid,
    start_process,
    stop_pid_file,
    wait_until,
)

HARDHAT_LOCAL = Path(__file__).resolve().parents[1] / "hardhat_local"
JSIPFS = HARDHAT_LOCAL / "node_modules" / ".bin" / "jsipfs"
POLYFILLS = HARDHAT_LOCAL / "polyfills.cjs"

NAME = "ipfs"
HOST = "127.0.0.1"
REPO_DIR = "ipfs-repo"
NODE_PREFIX = "node-"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class IpfsDaemon:
    """A running js-ipfs daemon started by :func:`start_ipfs`."""

    api: str
    """API multiaddr, e.g. ``/ip4/127.0.0.1/tcp/5001/http`` (what :class:`IpfsStore` takes)."""
    url: str
    """API base URL, e.g. ``http://127.0.0.1:5001``."""
    gateway_url: str | None
    repo: Path
    pid: int
    pid_file: Path
    log_file: Path
    startup_seconds: float

    def alive(self) -> bool:
        return pid_alive(self.pid)


def loopback_config(api_port: int, gateway_port: int | None = None) -> dict[str, Any]:
    """The configuration keys :func:`start_ipfs` imposes on the repository."""
    return {
        "Addresses": {
            "Swarm": [],
            "Announce": [],
            "NoAnnounce": [],
            "API": f"/ip4/{HOST}/tcp/{api_port}",
            "Gateway": f"/ip4/{HOST}/tcp/{gateway_port}" if gateway_port else [],
            "RPC": "",
            "Delegates": [],
        },
        "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
        "Bootstrap": [],
        "Swarm": {"DisableNatPortMap": True},
        "Pubsub": {"Enabled": False},
    }


def start_ipfs(
    run_dir: Path,
    port: int | None = None,
    *,
    gateway_port: int | None = None,
    timeout: float = START_TIMEOUT,
) -> IpfsDaemon:
    """Start js-ipfs with its repository under ``run_dir`` and wait until its API answers.

    ``port`` is the API port (a free one if omitted); the gateway stays off unless
    ``gateway_port`` is given. Raises :class:`DevstackError` if the daemon is already
    running for ``run_dir``, a port is taken, or it is not ready within ``timeout``.
    """
    started = time.monotonic()
    run_dir = Path(run_dir).resolve()
    if not JSIPFS.exists():
        raise DevstackError(f"{JSIPFS} not found: run `npm ci` in {HARDHAT_LOCAL}")
    pid_file = run_dir / f"{NAME}.pid"
    running = read_pid(pid_file)
    if running is not None and pid_alive(running):
        raise DevstackError(f"js-ipfs is already running for {run_dir} (pid {running})")
    api_port = port if port is not None else _free_port_except(gateway_port)
    for taken in (api_port, gateway_port):
        if taken is not None and port_open(HOST, taken):
            raise DevstackError(f"port {taken} on {HOST} is already in use")
    if gateway_port is not None and gateway_port == api_port:
        raise DevstackError("the API and the gateway need different ports")

    repo = run_dir / REPO_DIR
    run_dir.mkdir(parents=True, exist_ok=True)
    config = loopback_config(api_port, gateway_port)
    argv = [str(JSIPFS), "daemon", "--offline", "--enable-preload=false"]
    if (repo / "config").exists():
        _clear_stale_files(repo)
        _update_config(repo / "config", config)
    else:
        init_config = run_dir / "ipfs-init-config.json"
        init_config.write_text(json.dumps(config, indent=2))
        argv += ["--init-config", str(init_config)]

    process = start_process(NAME, argv, run_dir=run_dir, cwd=run_dir, env=_node_env(repo))
    url = f"http://{HOST}:{api_port}"
    wait_until(
        lambda: _ready(repo, api_port, process),
        process=process,
        timeout=timeout,
        what="js-ipfs daemon",
    )
    return IpfsDaemon(
        api=f"/ip4/{HOST}/tcp/{api_port}/http",
        url=url,
        gateway_url=f"http://{HOST}:{gateway_port}" if gateway_port else None,
        repo=repo,
        pid=process.pid,
        pid_file=process.pid_file,
        log_file=process.log_file,
        startup_seconds=time.monotonic() - started,
    )


def stop_ipfs(run_dir: Path, timeout: float = 10.0) -> bool:
    """Stop the daemon recorded in ``run_dir/ipfs.pid``; True if one was running.

    Only the recorded process (and its process group) is signalled. The repository and
    its blocks stay; the daemon's ``api`` file and lock are removed if it left them.
    """
    run_dir = Path(run_dir).resolve()
    pid_file = run_dir / f"{NAME}.pid"
    if read_pid(pid_file) is None:
        return False
    stopped = stop_pid_file(pid_file, timeout=timeout)
    _clear_stale_files(run_dir / REPO_DIR)
    return stopped


def node_dirs(run_dir: Path, count: int) -> list[Path]:
    """The run directories :func:`start_ipfs_nodes` gives ``count`` daemons: ``run_dir/node-<i>``."""
    return [Path(run_dir).resolve() / f"{NODE_PREFIX}{index}" for index in range(count)]


def start_ipfs_nodes(
    run_dir: Path,
    count: int,
    *,
    ports: Sequence[int] | None = None,
    timeout: float = START_TIMEOUT,
) -> list[IpfsDaemon]:
    """Start ``count`` independent daemons at once, each in its own ``run_dir/node-<i>``; all or none.

    ``ports`` are their API ports (distinct free ones if omitted). If any daemon fails to
    start, those that did are stopped again and the first failure is raised.
    """
    if count < 1:
        raise DevstackError("start at least one js-ipfs daemon")
    if ports is not None and (len(ports) != count or len(set(ports)) != count):
        raise DevstackError(f"give {count} distinct API ports, one per daemon")
    chosen = list(ports) if ports is not None else _distinct_free_ports(count)
    dirs = node_dirs(run_dir, count)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ipfs-start") as pool:
        futures = [pool.submit(start_ipfs, directory, port, timeout=timeout)
                   for directory, port in zip(dirs, chosen, strict=True)]
        errors = [future.exception() for future in futures]
    failure = next((error for error in errors if error is not None), None)
    if failure is not None:
        for directory in dirs:
            stop_ipfs(directory)
        raise failure
    return [future.result() for future in futures]


def stop_ipfs_nodes(run_dir: Path, timeout: float = 10.0) -> int:
    """Stop every daemon :func:`start_ipfs_nodes` started in ``run_dir``; how many were running."""
    run_dir = Path(run_dir).resolve()
    directories = sorted(path for path in run_dir.glob(f"{NODE_PREFIX}*") if path.is_dir())
    if not directories:
        return 0
    with ThreadPoolExecutor(max_workers=len(directories), thread_name_prefix="ipfs-stop") as pool:
        stopped = list(pool.map(lambda directory: stop_ipfs(directory, timeout=timeout), directories))
    return sum(stopped)


def ipfs_running(run_dir: Path) -> bool:
    """Whether the daemon recorded in ``run_dir/ipfs.pid`` is running."""
    pid = read_pid(Path(run_dir).resolve() / f"{NAME}.pid")
    return pid is not None and pid_alive(pid)


def configured_ports(run_dir: Path) -> tuple[int, int | None]:
    """The API and gateway ports (None: no gateway) the repository of ``run_dir`` is configured with."""
    path = Path(run_dir).resolve() / REPO_DIR / "config"
    try:
        addresses = json.loads(path.read_text()).get("Addresses", {})
    except (OSError, ValueError) as exc:
        raise DevstackError(f"cannot read the js-ipfs config {path}: {exc}") from exc

    def port_of(value: object) -> int | None:
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, str) or "/tcp/" not in value:
            return None
        try:
            return int(value.split("/tcp/", 1)[1].split("/", 1)[0])
        except ValueError:
            return None

    api = port_of(addresses.get("API"))
    if api is None:
        raise DevstackError(f"{path} names no API port")
    return api, port_of(addresses.get("Gateway"))


def restart_ipfs(run_dir: Path, *, timeout: float = START_TIMEOUT) -> IpfsDaemon:
    """Stop the daemon of ``run_dir`` if it runs, and start it again on the same ports.

    The repository (its blocks and pins) is kept; the ports are those its configuration names,
    so a client configured with the old address reaches the restarted daemon.
    """
    api_port, gateway_port = configured_ports(run_dir)
    stop_ipfs(run_dir)
    return start_ipfs(run_dir, api_port, gateway_port=gateway_port, timeout=timeout)


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        candidate = free_port(HOST)
        if candidate not in ports:
            ports.append(candidate)
    return ports


def _node_env(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["IPFS_PATH"] = str(repo)
    preload = f"--require {POLYFILLS}"
    env["NODE_OPTIONS"] = f"{env['NODE_OPTIONS']} {preload}" if env.get("NODE_OPTIONS") else preload
    env.pop("DEBUG", None)  # js-ipfs logs very verbosely when DEBUG is set
    return env


def _ready(repo: Path, port: int, process: ManagedProcess) -> bool:
    if not (repo / "api").exists():
        return False
    connection = http.client.HTTPConnection(HOST, port, timeout=1.0)  # direct, never a proxy
    try:
        connection.request("POST", "/api/v0/version")
        response = connection.getresponse()
        answer = json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return isinstance(answer, dict) and "Version" in answer and process.alive()


def _update_config(path: Path, overrides: dict[str, Any]) -> None:
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DevstackError(f"cannot read the js-ipfs config {path}: {exc}") from exc
    _merge(config, overrides)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    os.replace(tmp, path)


def _merge(target: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _clear_stale_files(repo: Path) -> None:
    """Remove the ``api`` file and lock a killed daemon leaves behind."""
    (repo / "api").unlink(missing_ok=True)
    lock = repo / "repo.lock"
    if lock.is_dir():
        for child in lock.iterdir():
            child.unlink(missing_ok=True)
        lock.rmdir()
    else:
        lock.unlink(missing_ok=True)


def _free_port_except(other: int | None) -> int:
    while True:
        candidate = free_port(HOST)
        if candidate != other:
            return candidate
