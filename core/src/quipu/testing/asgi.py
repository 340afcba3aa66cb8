"""One request straight into an ASGI app, with a scope of its own as a server builds it.

For tests that need what a test client hides: the client address (network rules), or the
scope itself after the answer (what a finished request leaves behind). No sockets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AsgiAnswer", "asgi_call"]


@dataclass
class AsgiAnswer:
    """What the app sent, and the scope it was called with."""

    status: int
    headers: dict[bytes, bytes]
    body: bytes
    scope: dict[str, Any] = field(repr=False)


async def asgi_call(
    app: Any,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    client: str = "127.0.0.1",
) -> AsgiAnswer:
    """Call ``app`` once with a fresh HTTP scope; the whole body arrives in one message.

    Run it on the event loop the app's lifespan runs on (``async with app.lifespan():``).
    """
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"quipu"), *headers],
        "client": (client, 40000),
        "server": ("127.0.0.1", 8002),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return AsgiAnswer(
        status=start["status"],
        headers=dict(start.get("headers", ())),
        body=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        scope=scope,
    )
