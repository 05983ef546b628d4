"""What every simulator shares around its :class:`~onboard_sync.server_thread.ServerThread`."""

from __future__ import annotations

from collections import Counter
from typing import Self

from onboard_sync.sandbox.common import RequestLog
from onboard_sync.server_thread import ServerThread


class ServedSandbox:
    """What every simulator shares around its ``ServerThread`` (``self._server``) and its request log
    (``self.requests``): ``start``/``stop``, the context manager, ``running``, ``base_url``, ``port``
    and ``request_counts``. Subclasses extend ``stop`` when they hold more (webhook senders, files)."""

    _server: ServerThread
    requests: RequestLog

    def start(self) -> Self:
        """Serve on loopback; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT`` (no trailing slash): what clients and SDKs are pointed at."""
        return self._server.base_url

    @property
    def port(self) -> int | None:
        return self._server.port

    def request_counts(self) -> Counter[str]:
        """Requests served, by ``"METHOD template"`` (e.g. ``"POST /crm/v3/objects/tasks/batch/create"``)."""
        return self.requests.counts()
