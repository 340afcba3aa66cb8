"""Per-company LLM usage and cost, by day, month and all time, in Redis hashes.

Totals are kept aggregated (``HINCRBY``/``HINCRBYFLOAT``), so reading a month costs one
``HGETALL`` rather than a scan of every call. Writes also go to in-process counters, which
answer when Redis is down (per process only, and said so in the answer).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from quipu.llm.pricing import Usage

__all__ = ["CostStats", "Period", "UsageLedger", "today_local"]

log = logging.getLogger("quipu.llm.ledger")

Period = Literal["today", "yesterday", "this_month", "all_time"]
ALL = "_all"
DAY_TTL_S = 90 * 86400
MONTH_TTL_S = 400 * 86400
_FIELDS = ("calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")

#: One call's increments to every bucket in one command: 6 hashes x 12 fields would be 76
#: pipelined commands, whose packing alone cost ~0.5 ms of CPU per call.
#: ARGV: n, n field names, n values, n kinds ("i" HINCRBY, "f" HINCRBYFLOAT), a TTL per key.
_RECORD_LUA = """
local n = tonumber(ARGV[1])
for k = 1, #KEYS do
  for i = 1, n do
    if ARGV[2 * n + 1 + i] == 'f' then
      redis.call('HINCRBYFLOAT', KEYS[k], ARGV[1 + i], ARGV[n + 1 + i])
    else
      redis.call('HINCRBY', KEYS[k], ARGV[1 + i], ARGV[n + 1 + i])
    end
  end
  local ttl = tonumber(ARGV[3 * n + 1 + k])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[k], ttl)
  end
end
return 1
"""

try:
    _TZ: dt.tzinfo = ZoneInfo("America/Santiago")
except ZoneInfoNotFoundError:  # no tz database on this machine
    _TZ = dt.UTC


def today_local() -> dt.date:
    """Today in Chile, where the companies' days and months are counted."""
    return dt.datetime.now(_TZ).date()


class Breakdown(msgspec.Struct, kw_only=True):
    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0


class Summary(msgspec.Struct, kw_only=True):
    total_calls: int = 0
    total_tokens: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    total_cache_read_tokens: int = 0
    total_cache_write_tokens: int = 0
    total_cost_usd: float = 0.0
    avg_tokens_per_call: float = 0.0
    avg_cost_per_call: float = 0.0


class CostStats(msgspec.Struct, kw_only=True):
    """The original ``/metrics/costs`` answer, plus cache tokens and the source."""

    period: str
    summary: Summary
    by_operation: dict[str, Breakdown]
    by_model: dict[str, Breakdown]
    source: Literal["redis", "process"] = "redis"


def _buckets(day: dt.date) -> list[tuple[str, int | None]]:
    return [(f"d:{day.isoformat()}", DAY_TTL_S), (f"m:{day:%Y-%m}", MONTH_TTL_S), ("all", None)]


def _bucket_for(period: Period, day: dt.date) -> str:
    if period == "today":
        return f"d:{day.isoformat()}"
    if period == "yesterday":
        return f"d:{(day - dt.timedelta(days=1)).isoformat()}"
    if period == "this_month":
        return f"m:{day:%Y-%m}"
    return "all"


class UsageLedger:
    """Records each call's usage and cost; answers totals and budgets."""

    def __init__(self, redis: Any, *, redis_down: Callable[[], bool] | None = None) -> None:
        self.redis = redis
        # While the cache's breaker says Redis is down, skip it rather than wait a timeout.
        self._redis_down = redis_down or (lambda: False)
        self._memory: defaultdict[str, defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        #: Awaited before every read: the gateway writes in the background, and a read must
        #: see the calls that finished before it (the gateway's ``settle``).
        self.before_read: Callable[[], Awaitable[None]] | None = None
        self._script: Any = None

    def _increments(
        self, usage: Usage, cost: float, operation: str, model: str
    ) -> dict[str, float]:
        tokens = usage.total_input_tokens + usage.output_tokens
        return {
            "calls": 1,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "cost_usd": cost,
            f"op:{operation}:calls": 1,
            f"op:{operation}:tokens": tokens,
            f"op:{operation}:cost_usd": cost,
            f"model:{model}:calls": 1,
            f"model:{model}:tokens": tokens,
            f"model:{model}:cost_usd": cost,
        }

    async def record(
        self, company: str | None, usage: Usage, cost: float, *, operation: str, model: str
    ) -> None:
        """Add one call to the company's and the platform's totals. Never raises."""
        incs = self._increments(usage, cost, operation, model)
        scopes = [ALL, company or "_platform"]
        day = today_local()
        for scope in scopes:
            for bucket, _ in _buckets(day):
                memory = self._memory[f"{scope}:{bucket}"]
                for field, value in incs.items():
                    memory[field] += value
        if self.redis is None or self._redis_down():
            return
        keys: list[str] = []
        ttls: list[int] = []
        for scope in scopes:
            for bucket, ttl in _buckets(day):
                keys.append(f"llm:usage:{scope}:{bucket}")
                ttls.append(ttl or 0)
        fields = list(incs)
        args: list[str | int] = [len(fields), *fields]
        args += [repr(v) if isinstance(v, float) else str(v) for v in incs.values()]
        args += ["f" if isinstance(v, float) else "i" for v in incs.values()]
        try:
            if self._script is None:
                self._script = self.redis.register_script(_RECORD_LUA)
            await self._script(keys=keys, args=[*args, *ttls])
        except Exception as exc:  # the ledger must never fail a request
            log.warning("usage ledger write failed: %s", type(exc).__name__)

    async def _read(self, scopes: Iterable[str], bucket: str) -> tuple[dict[str, float], str]:
        if self.before_read is not None:
            await self.before_read()
        totals: defaultdict[str, float] = defaultdict(float)
        if self.redis is not None and not self._redis_down():
            try:
                pipe = self.redis.pipeline(transaction=False)
                for scope in scopes:
                    pipe.hgetall(f"llm:usage:{scope}:{bucket}")
                for found in await pipe.execute():
                    for field, value in found.items():
                        name = field.decode() if isinstance(field, bytes) else field
                        totals[name] += float(value)
                return dict(totals), "redis"
            except Exception as exc:
                log.warning(
                    "usage ledger read failed, using this process's counters: %s",
                    type(exc).__name__,
                )
                totals.clear()
        for scope in scopes:
            for field, value in self._memory.get(f"{scope}:{bucket}", {}).items():
                totals[field] += value
        return dict(totals), "process"

    async def month_cost(self, company: str) -> float:
        """USD spent by ``company`` this month."""
        totals, _ = await self._read([company], _bucket_for("this_month", today_local()))
        return totals.get("cost_usd", 0.0)

    async def stats(self, period: Period, companies: Iterable[str] | None) -> CostStats:
        """Totals for ``period``, for some companies or (None) for the whole platform."""
        scopes = [ALL] if companies is None else list(companies)
        totals, source = await self._read(scopes, _bucket_for(period, today_local()))
        calls = int(totals.get("calls", 0))
        tokens = int(sum(totals.get(f, 0) for f in _FIELDS[1:]))
        cost = round(totals.get("cost_usd", 0.0), 6)
        summary = Summary(
            total_calls=calls,
            total_tokens=tokens,
            total_input_tokens=int(totals.get("input_tokens", 0)),
            total_output_tokens=int(totals.get("output_tokens", 0)),
            total_cache_read_tokens=int(totals.get("cache_read_tokens", 0)),
            total_cache_write_tokens=int(totals.get("cache_write_tokens", 0)),
            total_cost_usd=cost,
            avg_tokens_per_call=round(tokens / calls, 2) if calls else 0.0,
            avg_cost_per_call=round(cost / calls, 6) if calls else 0.0,
        )
        return CostStats(
            period=period,
            summary=summary,
            by_operation=_group(totals, "op"),
            by_model=_group(totals, "model"),
            source=source,  # type: ignore[arg-type]
        )


def _group(totals: dict[str, float], prefix: str) -> dict[str, Breakdown]:
    groups: dict[str, Breakdown] = {}
    for field, value in totals.items():
        if not field.startswith(prefix + ":"):
            continue
        name, _, measure = field[len(prefix) + 1 :].rpartition(":")
        entry = groups.setdefault(name, Breakdown())
        if measure == "calls":
            entry.calls = int(value)
        elif measure == "tokens":
            entry.tokens = int(value)
        elif measure == "cost_usd":
            entry.cost_usd = round(value, 6)
    return dict(sorted(groups.items()))
