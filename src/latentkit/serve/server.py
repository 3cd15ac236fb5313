"""Run the explorer app with uvicorn in a background thread (tests, benchmarks, notebooks).

``latentkit serve`` runs uvicorn in the foreground; :class:`BackgroundServer` runs the same
app on 127.0.0.1 in a daemon thread, on a free port unless one is given, and stops it on exit.

Example
-------
>>> with BackgroundServer(create_app(model)) as server:  # doctest: +SKIP
...     urllib.request.urlopen(server.url + "api/info").read()
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

__all__ = ["BackgroundServer", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """Serve ``app`` with uvicorn in a daemon thread; a context manager.

    Parameters
    ----------
    app : FastAPI
        The app, e.g. from :func:`latentkit.serve.create_app`.
    host : str
        Address to bind; 127.0.0.1 keeps it local.
    port : int, optional
        Port; a free one when not given.
    start_timeout : float
        Seconds to wait for the server to accept connections.
    """

    def __init__(
        self,
        app: FastAPI,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = free_port(host) if port is None else port
        self.start_timeout = start_timeout
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port/``."""
        return f"http://{self.host}:{self.port}/"

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the server on {self.url} stopped while starting.")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server on {self.url} did not start in time.")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
