"""What a circuit breaker costs per call: quipu's own against the libraries that could replace it.

The cache consults its Redis breaker before every Redis read, so the breaker's own cost per
call matters. Each case wraps the same successful ``async`` call (it returns at once, so
what is left is the breaker) in a closed breaker; the table shows µs per call above the bare
call, median of the rounds::

    .venv/bin/python perf/bench_breaker.py [--calls 100000] [--rounds 7]
    # with the libraries it was weighed against (not dependencies of quipu):
    .tools/bin/uv run --with pybreaker --with aiobreaker --with purgatory \\
        python perf/bench_breaker.py

Cases: ``quipu, cache path`` (``breaker.open`` read, ``succeeded()`` after; what
``quipu.cache.redis_tier`` does), ``quipu, LLM path`` (``allow()``, ``record(True)``,
``release_probe()`` with the failure-ratio rule; what the gateway does per attempt, once
per model call: its window here holds every call of the run, far more than real traffic,
so this is an upper bound),
``pybreaker`` (``with breaker.calling()``), ``aiobreaker`` (``await breaker.call_async``),
``purgatory`` (``async with`` a breaker got once, and got per call as its decorator does).
A library that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from quipu.breaker import CircuitBreaker

Case = Callable[[int], Awaitable[None]]


async def _op() -> int:
    return 1


async def _bare(n: int) -> None:
    for _ in range(n):
        await _op()


def _quipu_cache() -> Case:
    breaker = CircuitBreaker(failures=3)

    async def run(n: int) -> None:
        for _ in range(n):
            if breaker.open:
                continue
            await _op()
            breaker.succeeded()

    return run


def _quipu_llm() -> Case:
    breaker = CircuitBreaker(failure_ratio=0.5, min_calls=5, window_s=30, cooldown_s=30)

    async def run(n: int) -> None:
        for _ in range(n):
            if not breaker.allow():
                continue
            try:
                await _op()
                breaker.record(True)
            finally:
                breaker.release_probe()

    return run


def _pybreaker() -> Case | str:
    try:
        import pybreaker
    except ImportError:
        return "not installed"
    breaker = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=1)

    async def run(n: int) -> None:
        for _ in range(n):
            with breaker.calling():
                await _op()

    return run


def _aiobreaker() -> Case | str:
    try:
        import aiobreaker
    except ImportError:
        return "not installed"
    breaker = aiobreaker.CircuitBreaker(fail_max=3)

    async def run(n: int) -> None:
        for _ in range(n):
            await breaker.call_async(_op)

    return run


def _purgatory(per_call: bool) -> Case | str:
    try:
        from purgatory import AsyncCircuitBreakerFactory
    except ImportError:
        return "not installed"
    factory = AsyncCircuitBreakerFactory(default_threshold=3, default_ttl=1)

    async def run(n: int) -> None:
        breaker = await factory.get_breaker("redis")
        for _ in range(n):
            if per_call:
                breaker = await factory.get_breaker("redis")
            async with breaker:
                await _op()

    return run


async def _time(case: Case, n: int) -> float:
    started = time.perf_counter()
    await case(n)
    return (time.perf_counter() - started) / n * 1e6


async def main_async(calls: int, rounds: int) -> None:
    cases: dict[str, Case | str] = {
        "quipu, cache path (open? succeeded)": _quipu_cache(),
        "quipu, LLM path (allow, record, release)": _quipu_llm(),
        "pybreaker 'with calling()'": _pybreaker(),
        "aiobreaker 'call_async'": _aiobreaker(),
        "purgatory 'async with' (breaker got once)": _purgatory(per_call=False),
        "purgatory, breaker got per call (decorator)": _purgatory(per_call=True),
    }
    runnable = {name: case for name, case in cases.items() if not isinstance(case, str)}
    for case in (_bare, *runnable.values()):  # warm up
        await case(min(calls, 2000))
    bare: list[float] = []
    own: dict[str, list[float]] = {name: [] for name in runnable}
    for _ in range(rounds):  # interleaved: the machine's load hits every case alike
        bare.append(await _time(_bare, calls))
        for name, case in runnable.items():
            own[name].append(await _time(case, calls))
    base = statistics.median(bare)
    print(f"{'breaker per call, µs above a bare await (median)':<52}{'µs':>8}")
    print(f"{'(bare await of the call itself)':<52}{base:>8.3f}")
    for name, case in cases.items():
        if isinstance(case, str):
            print(f"{name:<52}{case:>16}")
        else:
            print(f"{name:<52}{statistics.median(own[name]) - base:>8.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.calls, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
