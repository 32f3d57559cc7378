"""devstack.ipfs: a js-ipfs daemon that starts, listens on loopback only, and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from devstack.ipfs import REPO_DIR, IpfsDaemon, start_ipfs, stop_ipfs
from devstack.process import DevstackError, free_port, pid_alive, port_open
from storage.ipfs import IpfsStore
from tests.storage.conftest import require_jsipfs

pytestmark = pytest.mark.ipfs


@pytest.fixture(autouse=True)
def _needs_jsipfs() -> None:
    require_jsipfs()


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """TCP (IPv4 and IPv6) addresses the process ``pid`` listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed between the listing and the read: not a listener
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found: set[tuple[str, int]] = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            raw_host, raw_port = local.split(":")
            packed = bytes.fromhex(raw_host)
            if size == 4:
                host = socket.inet_ntop(socket.AF_INET, packed[::-1])
            else:
                words = b"".join(packed[i:i + 4][::-1] for i in range(0, 16, 4))
                host = socket.inet_ntop(socket.AF_INET6, words)
            found.add((host, int(raw_port, 16)))
    return found


def test_a_descriptor_closed_while_listing_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # the daemon opens and closes descriptors all the time: one that goes between the
    # listing of /proc/<pid>/fd and its readlink is not a listening socket, not an error
    real = os.readlink
    read, write = os.pipe()
    closed = f"/fd/{read}"

    def readlink(path: os.PathLike[str] | str) -> str:
        if str(path).endswith(closed):
            raise FileNotFoundError(path)
        return real(path)

    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            monkeypatch.setattr(os, "readlink", readlink)
            assert ("127.0.0.1", server.getsockname()[1]) in listening_addresses(os.getpid())
    finally:
        os.close(read)
        os.close(write)


def test_start_and_stop_leave_nothing_behind(tmp_path: Path) -> None:
    api_port = free_port()
    gateway_port = free_port()
    daemon = start_ipfs(tmp_path, api_port, gateway_port=gateway_port)
    try:
        assert isinstance(daemon, IpfsDaemon)
        assert daemon.api == f"/ip4/127.0.0.1/tcp/{api_port}/http"
        assert daemon.url == f"http://127.0.0.1:{api_port}"
        assert daemon.gateway_url == f"http://127.0.0.1:{gateway_port}"
        assert daemon.alive()
        assert daemon.pid_file.read_text().split()[0] == str(daemon.pid)
        assert (daemon.repo / "api").read_text().strip() == daemon.api
        assert 0 < daemon.startup_seconds < 30
        # loopback only: every listening socket of the daemon is on 127.0.0.1
        listening = listening_addresses(daemon.pid)
        assert listening == {("127.0.0.1", api_port), ("127.0.0.1", gateway_port)}
        config = json.loads((daemon.repo / "config").read_text())
        assert config["Addresses"]["Swarm"] == []
        assert config["Addresses"]["Delegates"] == []
        assert config["Bootstrap"] == []
        assert config["Discovery"]["MDNS"]["Enabled"] is False
        assert config["Discovery"]["webRTCStar"]["Enabled"] is False
        assert config["Swarm"]["DisableNatPortMap"] is True
        with IpfsStore(daemon.api) as store:
            assert store.get(store.put(b"devstack")) == b"devstack"
    finally:
        assert stop_ipfs(tmp_path)
    assert not pid_alive(daemon.pid)
    assert not Path(f"/proc/{daemon.pid}").exists()
    assert not daemon.pid_file.exists()
    assert not (daemon.repo / "api").exists()
    assert not port_open("127.0.0.1", api_port)
    assert not port_open("127.0.0.1", gateway_port)
    assert not stop_ipfs(tmp_path)  # nothing left to stop


def test_restart_keeps_blobs_and_second_start_is_refused(tmp_path: Path) -> None:
    first = start_ipfs(tmp_path)
    try:
        with IpfsStore(first.api) as store:
            cid = store.put(b"survives a restart")
        with pytest.raises(DevstackError, match="already running"):
            start_ipfs(tmp_path)
        assert first.alive()
    finally:
        stop_ipfs(tmp_path)
    second = start_ipfs(tmp_path)  # reuses the repository, new port
    try:
        with IpfsStore(second.api, timeout=3.0) as store:
            assert store.get(cid) == b"survives a restart"
    finally:
        stop_ipfs(tmp_path)
    assert not second.alive()


def test_start_after_a_crash_clears_the_stale_lock(tmp_path: Path) -> None:
    crashed = start_ipfs(tmp_path)
    os.kill(crashed.pid, signal.SIGKILL)  # the process this test started, by pid
    deadline = time.monotonic() + 5
    while pid_alive(crashed.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    repo = tmp_path / REPO_DIR
    assert (repo / "repo.lock").exists()  # js-ipfs refuses to start while this exists
    restarted = start_ipfs(tmp_path)
    try:
        assert restarted.alive()
    finally:
        assert stop_ipfs(tmp_path)


def test_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevstackError, match="in use"):
            start_ipfs(tmp_path, port)
    assert not (tmp_path / "ipfs.pid").exists()
