"""``POST /v1/messages`` straight over aiohttp, with the SDK's headers and error classes.

The SDK's request path (options model, header merging, the httpx client wrapping the
aiohttp transport) costs 0.4-1 ms per call over the same request sent with aiohttp alone
(measured against the emulator, docs/profiling.md), most of what is left of quipu's
overhead on a non-streamed call. This sends the exact headers the SDK client would
(``client.default_headers``: auth, ``anthropic-version``, user agent), and turns every
failure into the exception the SDK would raise (its own ``_make_status_error_from_response``
for an HTTP error, ``APITimeoutError``, ``APIConnectionError``), so retries, the breaker and
error mapping see exactly what they saw through the SDK. Streams too: the SSE lines are
parsed as the SDK's ``AsyncStream`` does (``event:`` names, ``ping`` and unknown events
dropped, ``error`` raised as the SDK raises it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import msgspec

from quipu.llm.errors import LlmUpstreamError

__all__ = ["DirectTransport", "Slot", "direct_transport", "sdk_http_client"]

#: The events the SDK's stream hands on (it drops ``ping`` and unknown ones).
MESSAGE_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
    }
)


class DirectTransport:
    """One aiohttp connection pool (keep-alive) to the Messages endpoint, per process."""

    def __init__(self, client: Any, path: str) -> None:
        self._client = client
        self.url = str(client.base_url).rstrip("/") + path
        # The SDK's own headers, computed once (they do not change per call).
        self._headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
        self._session: Any = None

    async def post(self, body: bytes, timeout_s: float) -> bytes:
        """The reply body of a 2xx answer; raises the SDK's exception otherwise."""
        import aiohttp

        session = self._open()
        try:
            async with session.post(
                self.url,
                data=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                content: bytes = await response.read()
                if 200 <= response.status < 300:
                    return content
                raise self._status_error(response.status, response.raw_headers, content)
        except TimeoutError as exc:
            import anthropic

            raise anthropic.APITimeoutError(request=self._request()) from exc
        except aiohttp.ClientError as exc:
            import anthropic

            raise anthropic.APIConnectionError(request=self._request()) from exc

    async def stream(self, body: bytes, timeout_s: float) -> AsyncGenerator[dict[str, Any], None]:
        """The decoded events of a streamed call, as the SDK's ``AsyncStream`` yields them.

        An ``error`` event raises what the SDK raises for it (``APIStatusError`` and kin
        from the error body); closing the iterator early drops the connection, which is
        what makes the API stop generating.
        """
        import aiohttp

        session = self._open()
        finished = False
        response: Any = None
        try:
            response = await session.post(
                self.url,
                data=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=timeout_s, sock_read=timeout_s
                ),
            )
            if not 200 <= response.status < 300:
                content = await response.read()
                raise self._status_error(response.status, response.raw_headers, content)
            name: str | None = None
            async for raw in response.content:
                line = raw.rstrip(b"\r\n")
                if line.startswith(b"event:"):
                    name = line[6:].strip().decode()
                elif line.startswith(b"data:") and name is not None:
                    if name in MESSAGE_EVENTS:
                        event: dict[str, Any] = msgspec.json.decode(line[5:])
                        yield event
                        if name == "message_stop":
                            finished = True
                    elif name == "error":
                        raise self._stream_error(response, line[5:].strip())
                elif not line:
                    name = None
            finished = True
        except TimeoutError as exc:
            import anthropic

            raise anthropic.APITimeoutError(request=self._request()) from exc
        except aiohttp.ClientError as exc:
            import anthropic

            raise anthropic.APIConnectionError(request=self._request()) from exc
        finally:
            if response is not None:
                if finished:
                    response.release()
                else:
                    response.close()  # drop the connection: the API stops generating
                    await asyncio.sleep(0)  # the loop closes the socket now

    def _open(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                trust_env=True,  # HTTP(S)_PROXY / NO_PROXY, as the SDK's httpx honours them
            )
        return self._session

    def _stream_error(self, response: Any, data: bytes) -> Exception:
        """What the SDK's stream raises for an ``error`` event after a 200."""
        import httpx2

        body: Any = data.decode("utf-8", "replace")
        try:
            body = msgspec.json.decode(data)
            message = f"{body}"
        except msgspec.DecodeError:
            message = body or f"Error code: {response.status}"
        sdk_response = httpx2.Response(
            response.status, headers=list(response.raw_headers), request=self._request()
        )
        error: Exception = self._client._make_status_error(
            message, body=body, response=sdk_response
        )
        return error

    def _request(self) -> Any:
        import httpx2

        return httpx2.Request("POST", self.url)

    def _status_error(self, status: int, raw_headers: Any, content: bytes) -> Exception:
        import httpx2

        response = httpx2.Response(
            status, headers=list(raw_headers), content=content, request=self._request()
        )
        error: Exception = self._client._make_status_error_from_response(response)
        return error

    async def aclose(self) -> None:
        """Close the pool."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # let the connector close its sockets


def direct_transport(client: Any, path: str) -> DirectTransport | None:
    """A :class:`DirectTransport` for ``client``, or None without aiohttp."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return None
    return DirectTransport(client, path)


def sdk_http_client(timeout_s: float) -> Any:
    """aiohttp under the SDK when installed (the ``anthropic[aiohttp]`` extra): its C HTTP
    parser costs about half a millisecond less per call than httpx's h11; else the default."""
    import anthropic

    try:
        return anthropic.DefaultAioHttpClient(timeout=timeout_s)
    except RuntimeError:  # the extra is not installed
        return None


class Slot:
    """One of the gateway's concurrency slots, waited for no longer than the deadline."""

    __slots__ = ("deadline", "slots")

    def __init__(self, slots: asyncio.Semaphore, deadline: float) -> None:
        self.slots = slots
        self.deadline = deadline

    async def __aenter__(self) -> None:
        if not self.slots.locked():  # the usual case: no wait_for (a task) per call
            await self.slots.acquire()
            return
        remaining = self.deadline - asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(self.slots.acquire(), max(remaining, 0.001))
        except TimeoutError:
            raise LlmUpstreamError(
                "timeout", "too many AI requests in flight; none finished in time", 504
            ) from None

    async def __aexit__(self, *exc: object) -> None:
        self.slots.release()
