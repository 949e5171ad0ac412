"""A tiny TCP status endpoint on one fixed port per checkout.

The port is derived from the project's folder, so two copies of the project (or two engineers)
do not collide, but two test processes of the *same* checkout do: exactly the situation a
sequential lane exists for.
"""

from __future__ import annotations

import os
import socket
import threading
import zlib
from collections.abc import Callable
from types import TracebackType

from inventory.journal import PROJECT_ROOT


def status_port() -> int:
    """``$INVENTORY_STATUS_PORT``, or a port in 20000-39999 fixed by the project's path."""
    configured = os.environ.get("INVENTORY_STATUS_PORT")
    if configured:
        return int(configured)
    return 20000 + zlib.crc32(str(PROJECT_ROOT).encode()) % 20000


class StatusServer:
    """Answers every connection with one line from ``status()``; binds without SO_REUSEPORT."""

    def __init__(self, status: Callable[[], str], port: int | None = None) -> None:
        self.status = status
        self.port = status_port() if port is None else port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.served = 0

    def __enter__(self) -> StatusServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._sock is not None
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.sendall((self.status() + "\n").encode())
                self.served += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sock, self._sock = self._sock, None
        if self._thread is not None:
            self._thread.join(timeout=2)
        if sock is not None:
            sock.close()


def query(port: int | None = None, timeout: float = 2.0) -> str:
    with socket.create_connection(("127.0.0.1", status_port() if port is None else port), timeout) as c:
        return c.makefile().readline().strip()
