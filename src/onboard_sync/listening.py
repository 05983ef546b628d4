"""Open a listening TCP socket, or say in one line why not (a busy port, an address not on this host).

Called by ``onboard-sync serve`` (:mod:`onboard_sync.webhooks.server`) and by the sandbox
simulators' server thread (:mod:`onboard_sync.sandbox.server`, behind ``onboard-sync sandbox``).
A failure is a ``UserError`` whose ``where`` is ``host:port``, so the CLI prints
``error: 127.0.0.1:8765: the port is already in use …`` and exits 2.
"""

from __future__ import annotations

import errno
import socket

from onboard_sync.errors import UserError


def listening_socket(host: str, port: int, *, backlog: int = 128, hint: str = "") -> socket.socket:
    """A non-blocking socket listening on ``host:port`` (port 0: any free one).

    ``proto=IPPROTO_TCP`` matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    says TCP; without it every response waits ~40 ms for the client's delayed ACK (Nagle).
    ``hint`` ends the error message (e.g. how to pick another port).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        shown = f"[{host}]" if ":" in host else host
        raise UserError(_reason(exc) + (f"; {hint}" if hint else ""), where=f"{shown}:{port}") from exc
    sock.setblocking(False)
    return sock


def _reason(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot listen: the host name does not resolve ({exc.strerror})"
    if exc.errno == errno.EADDRINUSE:
        return "cannot listen: the port is already in use (another process is listening on it)"
    if exc.errno == errno.EACCES:
        return "cannot listen: permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "cannot listen: this machine has no such address"
    return f"cannot listen: {exc.strerror or exc}"
