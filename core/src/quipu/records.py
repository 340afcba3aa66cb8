"""Typed records that plugins return from their hooks.

Every record is a frozen msgspec Struct that rejects unknown fields, so a typo in a plugin
is caught when the platform starts, not when a request arrives. Names are local to the
plugin; the platform namespaces them as ``<plugin>.<name>`` (``dte.validation``).
"""

from __future__ import annotations

import re
import string
import traceback
from collections.abc import Callable
from typing import Any, Literal

import msgspec

__all__ = [
    "NAME_PATTERN",
    "CachePolicy",
    "PluginInfo",
    "PromptTemplate",
    "keyword_only_fix",
    "placeholders",
]

#: Names of plugins, policies, prompts and the records of plugin-defined hooks.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class CachePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How long one kind of result of a plugin is cached, and for whom.

    Attributes:
        name: Local name, e.g. ``validation``; the cache key starts ``dte:validation:v1:``.
        ttl_s: Time to live in seconds (> 0). Operators override it in
            ``[plugins.<name>.cache]``.
        scope: ``company`` (default) keys entries by the caller's company, so two companies
            never share an entry; ``global`` for data that is the same for everyone
            (e.g. published indicators).
        version: Bump it to invalidate every entry of the policy at once.
        cache_if: Optional predicate on the value about to be stored; return False to skip
            storing it (e.g. only answers given with high confidence).
        description: One line shown in introspection.
    """

    name: str
    ttl_s: float
    scope: Literal["company", "global"] = "company"
    version: int = 1
    cache_if: Callable[[Any], bool] | None = None
    description: str = ""


class PromptTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A versioned prompt a plugin sends to the LLM.

    Attributes:
        name: Local name, e.g. ``review``; registered as ``dte.review@<version>``.
        version: Free-form version string; bump it when the wording changes.
        system_blocks: Stable instruction blocks, sent first and marked cacheable.
        knowledge_blocks: Optional stable reference text, sent after the system blocks and
            also cacheable.
        user_template: The per-request message with ``{placeholders}`` (``str.format``
            syntax). Placeholders are filled with *data* that the gateway delimits, never
            spliced into instructions.
        cache_ttl: ``5m`` (default) or ``1h`` for the cacheable blocks.
        max_tokens: Upper bound for the reply.
    """

    name: str
    version: str
    system_blocks: tuple[str, ...]
    user_template: str
    knowledge_blocks: tuple[str, ...] = ()
    cache_ttl: Literal["5m", "1h"] = "5m"
    max_tokens: int = 1024


class PluginInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What introspection reports about one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]
    routes: tuple[str, ...]
    cache_policies: tuple[str, ...]
    prompts: tuple[str, ...]
    services: tuple[str, ...] = ()
    contributions: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    """What the plugin returned from hooks other plugins define, by hook name."""


def placeholders(template: str) -> tuple[str, ...]:
    """Return the named ``{placeholders}`` of a ``str.format`` template.

    Raises:
        ValueError: the template does not parse, or uses positional ``{}`` fields.
    """
    names: list[str] = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is None:
            continue
        root = re.split(r"[.\[]", field, maxsplit=1)[0]
        if not root or root.isdigit():
            raise ValueError("positional placeholder '{}' found; name every placeholder")
        if not root.isidentifier():
            raise ValueError(f"placeholder {{{field}}} is not a valid name")
        names.append(root)
    return tuple(dict.fromkeys(names))


def _example(kind: type[msgspec.Struct]) -> str:
    fields = kind.__struct_fields__
    required = fields[: len(fields) - len(kind.__struct_defaults__)]
    return f"{kind.__name__}({', '.join(f'{name}=...' for name in required)})"


def keyword_only_fix(
    exc: BaseException, expected: type | None = None, extra: tuple[type, ...] = ()
) -> str | None:
    """The fix line for a record built with positional arguments, else None.

    msgspec answers ``CachePolicy("x", 60)`` with a bare ``TypeError: Extra positional
    arguments provided``; the record is found in the failing source line, else ``expected``
    (the record type of the hook that raised). ``extra``: record types of plugin-defined
    hooks that may appear in the line too.
    """
    if not isinstance(exc, TypeError) or "positional" not in str(exc):
        return None
    records: tuple[type[msgspec.Struct], ...] = (
        CachePolicy,
        PromptTemplate,
        *(kind for kind in extra if isinstance(kind, type) and issubclass(kind, msgspec.Struct)),
    )
    frames = traceback.extract_tb(exc.__traceback__)
    line = frames[-1].line or "" if frames else ""
    named = [kind for kind in records if re.search(rf"\b{kind.__name__}\(", line)]
    if not named and isinstance(expected, type) and issubclass(expected, msgspec.Struct):
        named = [expected]
    if not named:
        return None
    return "records are keyword-only: " + ", ".join(_example(kind) for kind in named)
