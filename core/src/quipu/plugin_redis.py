"""Redis as one plugin may use it: only keys in its own namespace, ``<plugin>:...``.

The handle checks every key it is given rather than prefixing it, so the keys a plugin
wrote before (``previred:indicators:2025-06``) stay where they are, and a key built for
another plugin (``payroll:...`` from previred) fails loudly instead of being read. Build
keys with :meth:`PluginRedis.key`. Another plugin's data is reached through a service
that plugin provides (``quipu.api.ServiceKey``), never by its key strings.

redis-py offers no key-prefix or ACL-by-prefix wrapper of its own, hence this small one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ForeignKey", "PluginRedis"]


class ForeignKey(ValueError):
    """A key outside the plugin's namespace."""


class PluginRedis:
    """A ``redis.asyncio`` client restricted to keys starting ``<plugin>:``.

    Single-key commands are offered as methods; Lua scripts (:meth:`register_script`) and
    pipelines (:meth:`pipeline`) check their keys the same way.
    """

    __slots__ = ("_down", "_prefix", "_redis", "plugin")

    def __init__(self, redis: Any, plugin: str, *, down: Callable[[], bool] | None = None) -> None:
        self._redis = redis
        self.plugin = plugin
        self._prefix = f"{plugin}:"
        self._down = down

    @property
    def down(self) -> bool:
        """Whether the platform's breaker is skipping Redis right now (calls would wait
        for timeouts): read it first on paths that should degrade at once."""
        return self._down() if self._down is not None else False

    def wraps(self, client: Any) -> bool:
        """Whether this handle is over ``client`` (the platform's current one)."""
        return self._redis is client

    def key(self, *parts: object) -> str:
        """``<plugin>:part1:part2...``."""
        return self._prefix + ":".join(str(part) for part in parts)

    def check(self, key: str | bytes) -> str | bytes:
        """``key`` itself when it is in the plugin's namespace.

        Raises:
            ForeignKey: it is not.
        """
        text = key.decode("latin-1") if isinstance(key, bytes) else key
        if not text.startswith(self._prefix):
            raise ForeignKey(
                f"plugin {self.plugin!r} may use only Redis keys starting {self._prefix!r}, "
                f"got {text!r}: build keys with PluginRedis.key(); read another plugin's data "
                "through a service it provides"
            )
        return key

    def _all(self, keys: Iterable[str | bytes]) -> list[str | bytes]:
        return [self.check(key) for key in keys]

    async def get(self, key: str) -> Any:
        """``GET``."""
        return await self._redis.get(self.check(key))

    async def set(self, key: str, value: Any, *, ex: float | None = None) -> Any:
        """``SET`` (``ex``: expiry in seconds)."""
        return await self._redis.set(self.check(key), value, ex=ex)

    async def delete(self, *keys: str) -> int:
        """``DEL``; how many keys existed."""
        return int(await self._redis.delete(*self._all(keys)))

    async def incr(self, key: str, amount: int = 1) -> int:
        """``INCRBY``."""
        return int(await self._redis.incr(self.check(key), amount))

    async def exists(self, *keys: str) -> int:
        """``EXISTS``."""
        return int(await self._redis.exists(*self._all(keys)))

    async def expire(self, key: str, seconds: int) -> bool:
        """``EXPIRE``."""
        return bool(await self._redis.expire(self.check(key), seconds))

    def register_script(self, script: str) -> Callable[..., Any]:
        """A Lua script whose ``keys=`` are checked on every call."""
        compiled = self._redis.register_script(script)

        def call(keys: Iterable[str] = (), args: Iterable[Any] = (), **kwargs: Any) -> Any:
            return compiled(keys=self._all(keys), args=list(args), **kwargs)

        return call

    def pipeline(self, transaction: bool = True) -> _Pipeline:
        """A pipeline of single-key commands (the key is each command's first argument)."""
        return _Pipeline(self._redis.pipeline(transaction=transaction), self)


class _Pipeline:
    """A redis-py pipeline whose commands' first argument (the key) is checked."""

    __slots__ = ("_owner", "_pipe")

    def __init__(self, pipe: Any, owner: PluginRedis) -> None:
        self._pipe = pipe
        self._owner = owner

    async def __aenter__(self) -> _Pipeline:
        await self._pipe.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pipe.__aexit__(*exc)

    async def execute(self) -> list[Any]:
        """Run the queued commands."""
        result: list[Any] = await self._pipe.execute()
        return result

    def __getattr__(self, command: str) -> Callable[..., Any]:
        method = getattr(self._pipe, command)

        def queue(key: str, *args: Any, **kwargs: Any) -> Any:
            return method(self._owner.check(key), *args, **kwargs)

        return queue
