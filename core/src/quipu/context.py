"""The per-plugin view of the platform that hooks receive as ``platform``."""

from __future__ import annotations

from typing import Any

import msgspec

from quipu.config import Settings

__all__ = ["PluginContext"]


class PluginContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a hook implementation may read about the platform and itself.

    Attributes:
        name: The plugin's entry-point name: its config section, namespace and OpenAPI tag.
        config: The decoded ``[plugins.<name>]`` section (an instance of the Struct from
            ``register_config_schema``), or None when the plugin declares no schema.
        settings: The platform settings (secrets included: do not log them).
    """

    name: str
    config: Any
    settings: Settings
