"""Local emulator of the Anthropic Messages API, indistinguishable for the ``anthropic`` SDK.

* :func:`create_emulator_app` builds the raw ASGI app; :func:`serve` runs it under Granian;
  ``python -m quipu.testing.emulator`` is the command line (:func:`main`).
* :class:`EmulatorProcess` runs it in a subprocess for tests.
* Unscripted, it answers like the model in shape: a forced ``tool_choice`` (``tool`` or
  ``any``) gets a call of that tool with an input valid against its ``input_schema``
  (:mod:`.instances`, seeded by the prompt), anything else a deterministic text reply.
* Replies are scripted with :class:`ScriptRule` (a matching rule always wins), faults
  injected with :class:`FaultRule` or the ``x-emulator-fault`` header; token counts follow
  :mod:`.tokens`.
"""

from quipu.testing.emulator.app import EmulatorApp, create_emulator_app
from quipu.testing.emulator.cli import main
from quipu.testing.emulator.config import EmulatorConfig
from quipu.testing.emulator.faults import FAULT_HEADER, FAULTS, FaultRule
from quipu.testing.emulator.models import DEFAULT_MODELS, ModelSpec
from quipu.testing.emulator.process import EmulatorProcess, EmulatorStartError
from quipu.testing.emulator.scripts import ScriptRule, ToolCall
from quipu.testing.emulator.server import serve
from quipu.testing.emulator.tokens import text_tokens

__all__ = [
    "DEFAULT_MODELS",
    "FAULTS",
    "FAULT_HEADER",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorStartError",
    "FaultRule",
    "ModelSpec",
    "ScriptRule",
    "ToolCall",
    "create_emulator_app",
    "main",
    "serve",
    "text_tokens",
]
