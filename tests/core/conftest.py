"""Fixtures of the core tests: ports on 127.0.0.1 that refuse connections or never answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def refusing_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) and never answers: a read timeout, not a connect failure."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]
