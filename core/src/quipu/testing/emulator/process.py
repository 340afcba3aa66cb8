"""``EmulatorProcess``: the emulator in a subprocess, for (sync) pytest fixtures.

Usage::

    with EmulatorProcess(EmulatorConfig(ttft_ms=50)) as emu:
        os.environ["ANTHROPIC_BASE_URL"] = emu.url
        emu.script(ScriptRule(user_contains="RUT", text="12.345.678-5"))
        ...
        assert emu.requests()["count"] == 1
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any, Self

import httpx
import msgspec

from quipu.testing.emulator.config import (
    CONFIG_ENV_VAR,
    INSTANCE_ENV_VAR,
    EmulatorConfig,
    config_to_env,
)
from quipu.testing.emulator.faults import FaultRule
from quipu.testing.emulator.scripts import ScriptRule

__all__ = ["EmulatorProcess", "EmulatorStartError", "free_port"]


class EmulatorStartError(RuntimeError):
    """The emulator subprocess did not become healthy in time."""


class _PortShared(EmulatorStartError):
    """Another server answered on our port (lost race for a free port)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _payload(item: msgspec.Struct | Mapping[str, Any]) -> Any:
    return msgspec.to_builtins(item) if isinstance(item, msgspec.Struct) else dict(item)


class EmulatorProcess:
    """Start ``python -m quipu.testing.emulator`` on a free port; stop it on exit."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 20.0,
        stop_timeout_s: float = 5.0,
        log_level: str = "warning",
    ) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.log_level = log_level
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._http: httpx.Client | None = None
        self._instance = ""

    @property
    def url(self) -> str:
        """Base URL for ``ANTHROPIC_BASE_URL`` / ``base_url=`` (no trailing slash)."""
        if self.port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Spawn the server and wait until ``/_emulator/health`` answers."""
        if self._process is not None:
            raise RuntimeError("the emulator is already started")
        pick_port = self.port is None
        for attempt in range(3):
            if pick_port:
                self.port = free_port(self.host)
            try:
                self._spawn()
                self._wait_healthy()
            except _PortShared:
                self.stop()
                if not pick_port or attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
            else:
                return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _spawn(self) -> None:
        # A file rather than a pipe: nobody reads it while tests run, and a full pipe would
        # block the server.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._instance = uuid.uuid4().hex
        env = {
            **os.environ,
            CONFIG_ENV_VAR: config_to_env(self.config),
            INSTANCE_ENV_VAR: self._instance,
        }
        command = [sys.executable, "-m", "quipu.testing.emulator", "--host", self.host]
        command += ["--port", str(self.port), "--log-level", self.log_level]
        self._process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            # Own process group, so the Granian worker can be killed with its parent.
            start_new_session=True,
        )
        self._http = httpx.Client(base_url=self.url, timeout=10.0)

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        confirmed = 0
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorStartError(
                    f"emulator exited with status {self._process.returncode}:\n{self.output()}"
                )
            try:
                # A fresh connection each time: Granian binds with SO_REUSEPORT, so a server
                # already on this port would silently share it and answer some connections.
                answer = httpx.get(f"{self.url}/_emulator/health", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status_code != 200 or answer.json().get("instance") != self._instance:
                raise _PortShared(f"port {self.port} is already served by another process")
            confirmed += 1
            if confirmed == 3:
                return
        raise EmulatorStartError(
            f"emulator not healthy after {self.startup_timeout_s} s on {self.url}:\n{self.output()}"
        )

    def output(self) -> str:
        """Everything the subprocess printed so far (stdout and stderr)."""
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the process group after ``stop_timeout_s``."""
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(self.stop_timeout_s)
        if self._output is not None:
            self._output.close()
            self._output = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- control API --------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        if self._http is None:
            raise RuntimeError("the emulator is not started")
        response = self._http.request(method, f"/_emulator/{path}", json=payload, params=params)
        if response.status_code != 200:
            raise RuntimeError(
                f"{method} /_emulator/{path}: {response.status_code} {response.text}"
            )
        return response.json()

    def script(self, *rules: ScriptRule | Mapping[str, Any], replace: bool = False) -> int:
        """Add scripted replies; returns the number of active rules."""
        body = {"rules": [_payload(rule) for rule in rules], "replace": replace}
        count: int = self._call("POST", "script", body)["rules"]
        return count

    def faults(
        self, *rules: FaultRule | Mapping[str, Any], replace: bool = False, seed: int | None = None
    ) -> int:
        """Schedule faults; ``faults(replace=True)`` clears them. Returns the active count."""
        body = {"rules": [_payload(rule) for rule in rules], "replace": replace, "seed": seed}
        count: int = self._call("POST", "faults", body)["rules"]
        return count

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change config fields at runtime (e.g. ``ttft_ms=200``); returns the full config."""
        config: dict[str, Any] = self._call("POST", "config", changes)
        return config

    def advance_clock(self, seconds: float) -> None:
        """Move the prompt-cache clock forward (expire TTLs without waiting)."""
        self._call("POST", "clock", {"advance_s": seconds})

    def reset(self) -> None:
        """Initial config, no scripts or faults, empty prompt cache and request log."""
        self._call("POST", "reset")

    def requests(self, limit: int = 50) -> dict[str, Any]:
        """``{"count": n, "outcomes": {...}, "requests": [record, ...]}`` (newest last)."""
        log: dict[str, Any] = self._call("GET", "requests", limit=limit)
        return log

    def wait_for_outcome(self, outcome: str, timeout_s: float = 3.0) -> dict[str, Any]:
        """The newest logged request with ``outcome`` (e.g. ``"cancelled"``), polling.

        Outcomes such as a cancellation are recorded a moment after the client gives up, so
        asserting on them right away would be racy.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            for record in reversed(self.requests(limit=1000)["requests"]):
                if record["outcome"] == outcome:
                    found: dict[str, Any] = record
                    return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"no request with outcome {outcome!r} in the log")
            time.sleep(0.05)
