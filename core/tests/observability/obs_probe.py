"""The probe plugin of the observability tests: routes that use the cache and the LLM.

Tracing and multiprocess metrics are process-wide, so the tests that need them serve quipu
in a subprocess; the plugin reaches it as an installed-looking distribution on
``PYTHONPATH`` (:func:`quipu.testing.fake_dist.write_fake_plugin`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import httpx
from quipu.testing.fake_dist import write_fake_plugin
from quipu.testing.pytest_plugin import TEST_API_KEY
from quipu.testing.redis_server import free_port

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}

PROBE_SOURCE = """
from __future__ import annotations

import os
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from quipu.api import CachePolicy, Plugin, PromptTemplate, hookimpl


class Ask(msgspec.Struct, frozen=True):
    question: str
    company_id: int = 1


@get("/api/probe/pid", opt={"public": True})
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@post("/api/probe/ask", status_code=200)
async def ask(
    request: Request[Any, Any, Any], data: JSONBody[Ask], plugin: Plugin[Any]
) -> Response[bytes]:
    async def compute() -> dict[str, Any]:
        result = await plugin.llm_for(request).complete(
            plugin="probe", prompt="answer", company=data.company_id,
            data={"question": data.question},
        )
        return {"answer": result.text}

    cached = await plugin.cache_for(request).get_or_compute(
        "answers", data, compute, company=data.company_id
    )
    return cached.response()


@post("/api/probe/echo", status_code=200)
async def echo(
    request: Request[Any, Any, Any], data: JSONBody[Ask], plugin: Plugin[Any]
) -> Response[bytes]:
    async def compute() -> dict[str, Any]:
        return {"echo": data.question}

    cached = await plugin.cache_for(request).get_or_compute(
        "answers", data, compute, company=data.company_id
    )
    return cached.response()


@hookimpl
def register_routes() -> list[Any]:
    return [pid, ask, echo]


@hookimpl
def register_cache_policies() -> list[CachePolicy]:
    return [CachePolicy(name="answers", ttl_s=60)]


@hookimpl
def register_prompts() -> list[PromptTemplate]:
    return [
        PromptTemplate(
            name="answer", version="1", system_blocks=("Responde breve.",),
            user_template="{question}", max_tokens=50,
        )
    ]
"""


def load_probe(path: Path) -> ModuleType:
    """The probe plugin as a module object, for ``make_quipu_app(plugins=[...])``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROBE_SOURCE)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def install_probe(site: Path) -> Path:
    """Write the ``probe`` plugin (distribution ``quipu-probe``) into ``site``."""
    write_fake_plugin(
        site, dist="quipu-probe", entry_point="probe", module="quipu_probe", source=PROBE_SOURCE
    )
    return site


class ServedQuipu:
    """``python -m quipu.cli serve`` in a subprocess, with the probe plugin only."""

    def __init__(self, site: Path, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
            "API_KEY": TEST_API_KEY,
            "QUIPU_LOAD_PLUGINS": "probe",
            **env,
        }
        self.command = [sys.executable, "-m", "quipu.cli", "serve", "--host", "127.0.0.1"]
        # A file, not a pipe: nobody reads it while the server runs, and a full pipe blocks.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*self.command, "--port", str(self.port), "--workers", str(workers)],
            env=self.env,
            cwd=site,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"quipu exited:\n{self.output()}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"quipu did not get ready:\n{self.output()}")

    def output(self) -> str:
        """Everything the server printed so far."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
