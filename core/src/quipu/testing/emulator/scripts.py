"""Scripted replies: ordered rules matched on the prompt, and the default reply.

``metadata`` only carries ``user_id``, so rules match on what a caller controls anyway: a
substring of the system prompt, of the last user message, or the tools offered.
"""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Annotated, Any

import msgspec

from quipu.testing.emulator.protocol import CountTokensRequest

__all__ = [
    "DEFAULT_REPLY_PREFIX",
    "PromptView",
    "ScriptBook",
    "ScriptRule",
    "ToolCall",
    "default_reply",
]

DEFAULT_REPLY_PREFIX = "Respuesta simulada"

# A compact word pool for filler text; a string is easier to read than a 40-line list.
_VOCABULARY = (  # noqa: SIM905
    "factura boleta folio rut emisor receptor monto neto iva total documento tributario "
    "liquidación sueldo imponible previsión salud cotización afp isapre trabajador empresa "
    "período mensual cálculo detalle resumen registro validación estado pendiente aprobado "
    "cliente proveedor contrato pago fecha plazo glosa cuenta saldo"
).split()


class ToolCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A ``tool_use`` block the emulator answers with; ``id`` is generated when omitted."""

    name: str
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str | None = None


class ScriptRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One scripted reply. Every condition given must hold; a rule with none matches all.

    The reply is ``text``, then ``json`` (encoded as a text block), then ``tool_use`` blocks,
    in that order, for those that are set. ``stop_reason`` defaults to ``tool_use`` when
    there are tool calls and ``end_turn`` otherwise. ``times`` limits how often the rule fires.
    """

    name: str | None = None
    system_contains: str | None = None
    user_contains: str | None = None
    tool: str | None = None
    """The request offers a tool with this name."""
    has_tools: bool | None = None
    model: str | None = None
    text: str | None = None
    json: Any = None
    tool_use: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    times: Annotated[int, msgspec.Meta(ge=1)] | None = None

    def __post_init__(self) -> None:
        if self.text is None and self.json is None and not self.tool_use:
            raise ValueError("a script rule needs `text`, `json` or `tool_use`")


class PromptView(msgspec.Struct, frozen=True):
    """The parts of a request that rules look at."""

    system: str
    last_user: str
    tools: frozenset[str]
    model: str

    @classmethod
    def of(cls, request: CountTokensRequest) -> PromptView:
        """Extract the texts and tool names of ``request``."""
        system = request.system
        system_text = system if isinstance(system, str) else _texts(system or [])
        last_user = ""
        for message in reversed(request.messages):
            if message.role == "user":
                content = message.content
                last_user = content if isinstance(content, str) else _texts(content)
                break
        tools = frozenset(str(tool.get("name", "")) for tool in request.tools or ())
        return cls(system_text, last_user, tools, request.model)


def _texts(blocks: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif block.get("type") == "tool_result":
            content = block.get("content")
            parts.append(content if isinstance(content, str) else _texts(content or []))
    return "\n".join(parts)


def _matches(rule: ScriptRule, view: PromptView) -> bool:
    return (
        (rule.system_contains is None or rule.system_contains in view.system)
        and (rule.user_contains is None or rule.user_contains in view.last_user)
        and (rule.tool is None or rule.tool in view.tools)
        and (rule.has_tools is None or rule.has_tools == bool(view.tools))
        and (rule.model is None or rule.model == view.model)
    )


class ScriptBook:
    """The ordered rule list; consumes ``times`` as rules fire."""

    def __init__(self) -> None:
        self._rules: list[tuple[ScriptRule, int | None]] = []

    def add(self, rules: list[ScriptRule], *, replace: bool = False) -> int:
        """Append (or replace with) ``rules``; return how many rules are active."""
        if replace:
            self._rules.clear()
        self._rules.extend((rule, rule.times) for rule in rules)
        return len(self._rules)

    def clear(self) -> None:
        """Drop every rule."""
        self._rules.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """Active rules with their remaining uses, for ``GET /_emulator/script``."""
        return [
            {"rule": msgspec.to_builtins(rule), "remaining": left} for rule, left in self._rules
        ]

    def match(self, view: PromptView) -> ScriptRule | None:
        """First matching rule, consuming one of its uses."""
        for position, (rule, left) in enumerate(self._rules):
            if not _matches(rule, view):
                continue
            if left is not None:
                if left <= 1:
                    del self._rules[position]
                else:
                    self._rules[position] = (rule, left - 1)
            return rule
        return None


def default_reply(view: PromptView, words: int) -> str:
    """Deterministic Spanish filler derived from the prompt: same prompt, same reply.

    It starts with "Respuesta simulada" and has exactly ``words`` words.
    """
    return _filler(view.system, view.last_user, words)


@functools.lru_cache(maxsize=4096)  # load tests repeat prompts; the text is pure
def _filler(system: str, last_user: str, words: int) -> str:
    seed = hashlib.sha256(f"{system}\x00{last_user}".encode()).digest()
    rng = random.Random(seed)  # not for security: a reproducible filler text
    head = DEFAULT_REPLY_PREFIX.split()[:words]
    tail = [rng.choice(_VOCABULARY) for _ in range(max(0, words - len(head)))]
    return " ".join(head + tail) + "."
