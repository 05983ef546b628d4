"""Several hosts on one machine: Linux network namespaces joined by a bridge (multi-host tests, scale-out bench).

Used by tests/cluster (one ``onboard-sync`` worker per host against a shared PostgreSQL and the
sandbox CRMs) and by ``python -m bench --only scale-out``::

    with HostNetwork(hosts=3) as net:
        server = net.gateway                     # the root side's address, e.g. 10.213.4.1
        proc = net.hosts[0].popen(["python", "-m", "onboard_sync.cli", "worker", ...])
        net.hosts[1].link_down()                 # the host drops off the network (packets lost)
        net.hosts[1].link_up()

Each host is a namespace ``<tag>h<i>`` with an ``eth0`` on a private /24, whose peer in the root
namespace is a port of the bridge ``<tag>b`` carrying the gateway address: services the root
namespace runs on the gateway address (PostgreSQL, sandboxes) see each host's own address as the
client address. ``link_down`` sets the root-side peer down: the host's ``eth0`` loses its carrier and
its packets are dropped, as when a machine's cable is pulled (open TCP connections hang, they are not
reset). Names carry the creating process's id (``osy<pid hex><n>``): a run that died without
cleaning up is cleaned by the next one, which removes every ``osy*`` namespace and link whose process
is gone. Subnets are chosen among 10.213.0.0/16 under a file lock so that concurrent runs never share one.

Why our own rather than a library: it is a dozen ``ip`` commands (iproute2, on every Linux and in
CI), the ones an operator would type to reproduce a failure by hand; pyroute2 would add a dependency
for no behaviour we need, and processes must enter the namespace anyway (``ip netns exec``).
Requires root, ``ip`` and ``unshare``; :func:`unavailable` says why not, for a clear skip.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, Self

import filelock

PREFIX = "osy"
SUPERNET = ipaddress.ip_network("10.213.0.0/16")
_ALLOCATION_LOCK = Path(tempfile.gettempdir()) / "onboard-sync-netns.lock"
_NAME = re.compile(rf"^{PREFIX}([0-9a-f]{{6}})[0-9a-f]")
_networks = count()


class NetworkError(RuntimeError):
    """An ``ip`` command failed; the message names the command and what it printed."""


def ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS`` and return its output; raise :class:`NetworkError` naming the command on failure."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)
    if check and done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def unavailable() -> str | None:
    """Why network namespaces cannot be created here (for ``pytest.skip``), or ``None`` when they can."""
    if shutil.which("ip") is None:
        return "network namespaces need the `ip` command (iproute2), not found on PATH"
    if shutil.which("unshare") is None:
        return "hosts need the `unshare` command (util-linux) for their own host names, not found on PATH"
    if os.geteuid() != 0:
        return "network namespaces need root (creating them needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    probe = f"{PREFIX}{os.getpid():06x}fp"
    try:
        ip("netns", "add", probe)
    except NetworkError as exc:
        return f"cannot create a network namespace: {exc}"
    ip("netns", "del", probe, check=False)
    return None


@dataclass
class Host:
    """One host: a network namespace with ``eth0`` at ``address``. Processes it starts are tracked."""

    index: int
    netns: str
    address: str
    peer: str
    """The root-side end of the host's veth pair (a bridge port)."""
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"host{self.index}"

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as run on this host: inside its network namespace, with its own host name (``hostN``,
        in a UTS namespace of its own, so that ``socket.gethostname()`` tells the hosts apart). Every
        step execs the next, so the process started is ``argv`` itself (its pid is the worker's)."""
        named = ["unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', self.name]
        return ["ip", "netns", "exec", self.netns, *named, *argv]

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` on this host in its own process group; killed when the network closes."""
        kwargs.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.command(argv), **kwargs)
        self.processes.append(proc)
        return proc

    def run(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` on this host to completion (``subprocess.run`` arguments apply)."""
        kwargs.setdefault("check", False)
        return subprocess.run(self.command(argv), **kwargs)

    def link_down(self) -> None:
        """Pull the cable: the host's packets are dropped until :meth:`link_up`."""
        ip("link", "set", self.peer, "down")

    def link_up(self) -> None:
        """Plug the cable back in. The neighbour entries that failed while it was out are flushed (as a
        reconnected NIC's would be), so the next connection does not fail once with "no route to host"."""
        ip("link", "set", self.peer, "up")
        ip("-n", self.netns, "neigh", "flush", "dev", "eth0", check=False)
        ip("neigh", "flush", "to", self.address, check=False)

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process group of every process this host started, and reap them."""
        for proc in self.processes:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
        for proc in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


class HostNetwork:
    """``hosts`` namespaces on a private /24 behind one bridge; see the module docstring."""

    def __init__(self, hosts: int) -> None:
        if not 1 <= hosts <= 200:
            raise ValueError(f"hosts must be between 1 and 200, not {hosts}")
        self.tag = f"{PREFIX}{os.getpid():06x}{next(_networks) % 16:x}"
        self.bridge = f"{self.tag}b"
        self.size = hosts
        self.hosts: list[Host] = []
        self.subnet: ipaddress.IPv4Network | None = None
        self._closed = False

    @property
    def gateway(self) -> str:
        """The root namespace's address on the hosts' network: where services for the hosts listen."""
        if self.subnet is None:
            raise RuntimeError("the network is not started")
        return str(self.subnet.network_address + 1)

    def start(self) -> Self:
        remove_stale()
        with filelock.FileLock(str(_ALLOCATION_LOCK), timeout=60):
            self.subnet = _free_subnet()
            atexit.register(self.close)
            try:
                self._create()
            except BaseException:
                self.close()
                raise
        return self

    def _create(self) -> None:
        assert self.subnet is not None
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for i in range(1, self.size + 1):
            host = Host(i, f"{self.tag}h{i}", str(self.subnet.network_address + 10 + i), f"{self.tag}h{i}")
            ip("netns", "add", host.netns)
            self.hosts.append(host)
            ip("link", "add", host.peer, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            ip("link", "set", host.peer, "master", self.bridge, "up")
            ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            ip("-n", host.netns, "link", "set", "eth0", "up")
            ip("-n", host.netns, "link", "set", "lo", "up")

    def close(self) -> None:
        """Kill every process the hosts started, delete the namespaces and the bridge. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for host in self.hosts:
            host.kill_all()
            ip("netns", "del", host.netns, check=False)  # takes the veth pair with it
        ip("link", "del", self.bridge, check=False)
        atexit.unregister(self.close)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Delete the ``osy*`` namespaces and links left by runs whose process is gone; return their names."""
    removed = []
    for name in ip("netns", "list", check=False).split():
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1), 16)):
            ip("netns", "del", name, check=False)
            removed.append(name)
    for line in ip("-o", "link", "show", check=False).splitlines():
        parts = line.split(":", 2)
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1), 16)):
            ip("link", "del", name, check=False)
            removed.append(name)
    return removed


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no interface on this machine has an address in."""
    used = set()
    for line in ip("-o", "-4", "addr", "show", check=False).splitlines():
        found = re.search(r"inet (\S+)", line)
        if found:
            used.add(ipaddress.ip_interface(found.group(1)).network)
    for subnet in SUPERNET.subnets(new_prefix=24):
        if not any(subnet.overlaps(u) for u in used):
            return subnet
    raise NetworkError(f"no free /24 left in {SUPERNET}")


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate()`` until it is true; ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout:g} s")
        time.sleep(interval)


__all__ = ["Host", "HostNetwork", "NetworkError", "remove_stale", "unavailable", "wait_for"]
