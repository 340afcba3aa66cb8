"""``quipu serve`` in a subprocess, for tests whose behaviour is HTTP (SSE, disconnects).

In-process test clients skip the server: they cannot show framing on a real socket, a
client going away, or several Granian workers. ``QuipuServer`` runs the real command on a
free loopback port and stops its whole process group afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Self

import httpx

from quipu.testing.redis_server import free_port

__all__ = ["QuipuServer"]


class QuipuServer:
    """``python -m quipu.cli serve`` with ``config`` as its platform.toml.

    Args:
        config: The text of the server's ``platform.toml``.
        env: Variables on top of this process's environment (``API_KEY``, ``REDIS_URL``...).
        workers: Granian workers.
        folder: Where the config and the server's log go (default: a temporary folder).
    """

    def __init__(
        self,
        config: str = "",
        env: Mapping[str, str] | None = None,
        *,
        workers: int = 1,
        folder: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder or Path(tempfile.mkdtemp(prefix="quipu-serve-"))
        config_path = self.folder / "platform.toml"
        config_path.write_text(config)
        self._log: IO[bytes] = (self.folder / "quipu.log").open("wb")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "quipu.cli", "serve", "--host", "127.0.0.1"),
                *("--port", str(self.port), "--workers", str(workers)),
            ],
            env={**os.environ, **(env or {}), "QUIPU_CONFIG": str(config_path)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout_s: float = 60.0) -> Self:
        """Until ``/health`` answers 200; raises with the server's output otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"quipu exited:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"quipu not healthy in {timeout_s} s:\n{self.output()}")

    def output(self) -> str:
        """Everything the server wrote (Granian's log and every worker's)."""
        self._log.flush()
        return (self.folder / "quipu.log").read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()

    def __enter__(self) -> Self:
        return self.wait_healthy()

    def __exit__(self, *exc: object) -> None:
        self.stop()
