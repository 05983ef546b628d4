"""Run an ASGI app with uvicorn in a background thread (the simulators' server mode, the worker's
health and metrics endpoint, test receivers).

Used by every sandbox dialect (``HubSpotSandbox.start()``), by ``serve_forever`` helpers behind the
``onboard-sync sandbox ...`` CLI and by ``onboard-sync worker``'s ``/healthz``. ``port=0`` binds a
free port; ``start()`` returns once the server accepts connections; ``stop()`` shuts it down and
joins the thread, so many start/stop cycles can run in one process (pytest). With
``ssl_certfile``/``ssl_keyfile`` it serves HTTPS (the Salesforce sandbox).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import uvicorn

from onboard_sync.listening import listening_socket


class ServerThread:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "sandbox",
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        max_request_head: int | None = None,
        port_hint: str = "choose another with --port (0 picks a free one)",
    ) -> None:
        self.app = app
        self.port_hint = port_hint
        """How the error for a busy port ends: which option picks another."""
        self.max_request_head = max_request_head
        """Bytes of request line and headers the server reads before refusing (h11's default: 16 KiB)."""
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self.name} server is not started")
        scheme = "https" if self.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Bind, start serving and block until the server accepts connections."""
        if self.running:
            return
        sock = listening_socket(self.host, self.requested_port, backlog=128, hint=self.port_hint)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
            h11_max_incomplete_event_size=self.max_request_head,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._error = None

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced by start()
                self._error = exc

        self._thread = threading.Thread(target=run, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError(f"{self.name} server failed to start") from self._error
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self.name} server did not start within {timeout}s")
            time.sleep(0.005)
        self._wait_accepting(deadline)

    def _wait_accepting(self, deadline: float) -> None:
        assert self.port is not None
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for the thread, release the socket. Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C stops it."""
        try:
            while self.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
