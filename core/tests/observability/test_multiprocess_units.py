"""Multiprocess metrics: set-up and clean-up, and merging the workers' snapshots."""

from __future__ import annotations

import math
import multiprocessing
import os
from pathlib import Path

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from quipu.observability import multiprocess
from quipu.observability.multiprocess import _Family, _Sample, merge_snapshots


def family(name: str, merge: str, *samples: tuple[dict[str, str], float | None]) -> _Family:
    return _Family(
        name=name,
        documentation="d",
        type="gauge",
        unit="",
        samples=[_Sample(name, labels, value) for labels, value in samples],
        merge=merge,
    )


def worker(hits: int, lookups: int, entries: int, breaker: int) -> list[_Family]:
    labels = {"plugin": "dte", "policy": "validation"}
    ratio = hits / lookups if lookups else None
    return [
        family("quipu_cache_hit_ratio", "weighted:quipu_cache_window_requests", (labels, ratio)),
        family("quipu_cache_window_requests", "sum", (labels, float(lookups))),
        family("quipu_cache_l1_entries", "sum", ({}, float(entries))),
        family("quipu_cache_redis_breaker_open", "max", ({}, float(breaker))),
    ]


def values(merged: list[object]) -> dict[str, float]:
    return {s.name: s.value for m in merged for s in m.samples}  # type: ignore[attr-defined]


def test_gauges_merge_by_their_mode() -> None:
    merged = values(merge_snapshots([worker(9, 10, 5, 0), worker(1, 30, 7, 1)]))
    assert merged["quipu_cache_hit_ratio"] == pytest.approx(10 / 40)  # not (0.9 + 0.033) / 2
    assert merged["quipu_cache_window_requests"] == 40
    assert merged["quipu_cache_l1_entries"] == 12
    assert merged["quipu_cache_redis_breaker_open"] == 1


def test_a_worker_without_lookups_does_not_weigh_on_the_ratio() -> None:
    merged = values(merge_snapshots([worker(3, 4, 0, 0), worker(0, 0, 0, 0)]))
    assert merged["quipu_cache_hit_ratio"] == pytest.approx(0.75)
    assert math.isnan(values(merge_snapshots([worker(0, 0, 0, 0)]))["quipu_cache_hit_ratio"])


def test_one_worker_needs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(multiprocess.ENV_VAR, raising=False)
    assert multiprocess.prepare(1) is None
    assert not multiprocess.active()
    body, content_type = multiprocess.exposition()
    assert content_type == CONTENT_TYPE_LATEST
    declared = {line for line in body.splitlines() if line.startswith(b"# TYPE")}
    assert declared == {
        line for line in generate_latest(REGISTRY).splitlines() if line.startswith(b"# TYPE")
    }
    assert b"# TYPE quipu_http_requests_total counter" in declared


def test_several_workers_get_a_fresh_directory_removed_at_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(multiprocess.ENV_VAR, raising=False)
    method = multiprocessing.get_start_method()
    try:
        cleanup = multiprocess.prepare(3)
        assert cleanup is not None
        path = Path(os.environ[multiprocess.ENV_VAR])
        assert path.is_dir()
        assert multiprocessing.get_start_method() == "spawn"
        cleanup()
        assert not path.exists()
        assert multiprocess.ENV_VAR not in os.environ
    finally:
        multiprocessing.set_start_method(method, force=True)


def test_an_operators_directory_is_emptied_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "quipu_metrics_123.json").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv(multiprocess.ENV_VAR, str(tmp_path))
    method = multiprocessing.get_start_method()
    try:
        cleanup = multiprocess.prepare(1)
        assert cleanup is not None
        assert not (tmp_path / "quipu_metrics_123.json").exists()
        cleanup()
        assert tmp_path.is_dir()
        assert (tmp_path / "keep.txt").exists()
    finally:
        multiprocessing.set_start_method(method, force=True)


def test_a_dead_workers_counters_stay_summed_and_its_gauges_go(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dead = multiprocess._Snapshot(
        pid=2**22 + 7,  # no such process
        written_at=0.0,
        families=[
            multiprocess._Family(
                name="quipu_http_requests",
                documentation="d",
                type="counter",
                unit="",
                samples=[_Sample("quipu_http_requests_total", {"route": "/probe"}, 5.0)],
            ),
            family("quipu_http_requests_in_flight", "sum", ({}, 3.0)),
        ],
    )
    (tmp_path / f"quipu_metrics_{dead.pid}.json").write_bytes(multiprocess._encoder.encode(dead))
    monkeypatch.setenv(multiprocess.ENV_VAR, str(tmp_path))
    body = multiprocess.exposition()[0].decode()
    assert 'quipu_http_requests_total{route="/probe"} 5.0' in body
    assert "quipu_http_requests_in_flight 3.0" not in body
