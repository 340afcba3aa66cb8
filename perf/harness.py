"""Processes the perf runner and the quick benchmarks start, pin to cores and always stop.

- :func:`cores`: the server core and the load core (the load generator, Redis and the
  emulator share the load core; quipu and the bare app have the server core to themselves).
- :class:`Server`: a Granian server (quipu through ``quipu serve``, or any factory) as a
  subprocess in its own session, pinned with ``taskset``, stopped with its whole group.
- :class:`OtlpSink`: an OTLP/HTTP endpoint that accepts and drops spans.
- :class:`Stack`: everything started, stopped in reverse order on exit, Ctrl-C or error.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
API_KEY = "perf-key-0123456789abcdef0123456789abcdef"
#: The perf suite's platform.toml: production settings, rate limits sized for one key.
PERF_CONFIG = HERE / "platform.toml"

__all__ = [
    "API_KEY",
    "PERF_CONFIG",
    "OtlpSink",
    "Server",
    "Stack",
    "cores",
    "free_port",
    "http_get",
    "pin_tree",
    "pinned",
]


def free_port() -> int:
    from quipu.testing.redis_server import free_port as pick

    return pick()


def cores() -> tuple[int | None, int | None]:
    """``(server core, load core)``; Nones when there are fewer than two cores."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[-1], available[0]


def pinned(core: int | None, argv: list[str]) -> list[str]:
    """``argv`` under ``taskset -c core`` when both are available."""
    if core is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(core), *argv]


def _descendants(pid: int) -> list[int]:
    found = [pid]
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in children.read().split():
                    found.extend(_descendants(int(child)))
    return found


def pin_tree(pid: int, core: int | None) -> None:
    """Pin a running process, its threads and its children to ``core`` (Linux)."""
    if core is None:
        return
    for process in _descendants(pid):
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{process}/task"):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task), {core})


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body: bytes = response.read()
        return body


class Server:
    """A Granian server subprocess on a free loopback port, pinned to ``core``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        core: int | None,
        port: int,
        health: str | None = "/health",
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.health = health
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            pinned(core, argv),
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @classmethod
    def quipu(cls, name: str, env: dict[str, str], core: int | None, *, workers: int = 1) -> Server:
        """``quipu serve`` with ``env`` on top of this environment, configured by
        :data:`PERF_CONFIG` unless ``env`` names another ``QUIPU_CONFIG``."""
        port = free_port()
        argv = [str(BIN / "quipu"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers)]
        merged = {**os.environ, "QUIPU_CONFIG": str(PERF_CONFIG), **env}
        return cls(name, argv, env=merged, core=core, port=port)

    @classmethod
    def factory(
        cls,
        name: str,
        factory: str,
        env: dict[str, str],
        core: int | None,
        *,
        health: str | None = "/health",
    ) -> Server:
        """Granian (1 worker, same settings as ``quipu serve``) serving ``factory``."""
        port = free_port()
        argv = [str(BIN / "granian"), "--interface", "asgi", "--factory", factory]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        argv += ["--loop", "auto", "--backlog", "2048", "--log-level", "warning"]
        argv += ["--no-access-log"]
        pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        return cls(
            name,
            argv,
            env={**os.environ, "PYTHONPATH": pythonpath, "QUIPU_CONFIG": str(PERF_CONFIG), **env},
            core=core,
            port=port,
            health=health,
        )

    def wait(self, timeout_s: float = 60.0) -> Server:
        """Until ``GET <health>`` answers 200 (or, with no health route, the port accepts
        connections); raises with the server's output if it died."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.output()[-3000:]}")
            try:
                if self.health is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                else:
                    http_get(self.url + self.health, timeout=1)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer in {timeout_s} s:\n{self.output()[-3000:]}")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """SIGINT to the group (Granian's graceful stop), SIGKILL after 15 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._log.close()


class _Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.server.received += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


class OtlpSink:
    """An OTLP/HTTP collector that answers 200 to every export and keeps nothing."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        self.server.received = 0  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def received(self) -> int:
        return int(self.server.received)  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Stack:
    """Things started for a run, stopped in reverse order however the run ends."""

    def __init__(self) -> None:
        self._stops: list[tuple[str, Callable[[], None]]] = []

    def add(self, name: str, stop: Callable[[], None]) -> None:
        self._stops.append((name, stop))

    def close(self) -> None:
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the rest
                print(f"warning: stopping {name} failed: {exc}", file=sys.stderr)

    def __enter__(self) -> Stack:
        # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so everything is stopped.
        signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
