"""What the chat tests share: keys, the test config, a plugin lending tools, helpers."""

from __future__ import annotations

from typing import Any

from quipu.api import hookimpl
from quipu.testing.pytest_plugin import TEST_API_KEY
from quipu_chat.records import ChatSkill, ChatTool, KnowledgeDocument

#: Keys scoped to one company each (``[[auth.keys]]``), next to the full-access API_KEY.
KEY_1, KEY_2 = "key-for-company-1-abcdef", "key-for-company-2-abcdef"
AUTH_1 = {"Authorization": f"Bearer {KEY_1}"}
AUTH_2 = {"Authorization": f"Bearer {KEY_2}"}
FULL = {"Authorization": f"Bearer {TEST_API_KEY}"}

CONFIG = """
[llm.retry]
base_delay_s = 0.01
max_delay_s = 0.05

[[auth.keys]]
name = "empresa-1"
env = "CHAT_KEY_1"
companies = [1]

[[auth.keys]]
name = "empresa-2"
env = "CHAT_KEY_2"
companies = [2]

[plugins.chat]
keepalive_s = 0.2
"""

IVA_DOC = """# Cálculo de IVA y totales

## IVA de una factura afecta

El IVA de una factura electrónica afecta (tipo 33) es el 19% del monto neto, redondeado al
entero más cercano. Si el IVA informado no coincide con el 19% del neto, el documento tiene
un error de IVA que debe corregirse con una nota de crédito o de débito.

## Monto total

El monto total de una factura es el neto más el exento más el IVA.

## Redondeo del IVA

El IVA se redondea al peso: las mitades suben. Un IVA calculado de 19.000,5 se informa como
19.001. El redondeo del IVA nunca usa decimales.
"""


class ToolPlugin:
    """A plugin lending a DTE skill with ``validate_dte`` and a failing tool.

    ``validate_dte`` checks IVA = round(19% of neto) and records every call in ``calls``
    (input and the caller's company), so a test can see the tool ran for whom.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def validate_dte(self, data: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls.append(
            {"input": data, "company": context.company_id, "key": context.principal.key_name}
        )
        neto, iva = int(data["monto_neto"]), int(data["iva"])
        expected = int(neto * 19 / 100 + 0.5)
        findings = []
        if iva != expected:
            findings.append(
                {
                    "code": "IVA_MISMATCH",
                    "message": f"IVA informado {iva} no es el 19% del neto: se esperaba {expected}",
                }
            )
        return {"valid": not findings, "findings": findings, "company_id": context.company_id}

    async def broken(self, data: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("database is down")

    @hookimpl
    def register_chat_skills(self) -> list[ChatSkill]:
        schema = {
            "type": "object",
            "properties": {
                "tipo_dte": {"type": "integer"},
                "monto_neto": {"type": "integer"},
                "iva": {"type": "integer"},
            },
            "required": ["monto_neto", "iva"],
        }
        return [
            ChatSkill(
                name="dte",
                description="Facturación electrónica chilena (DTE)",
                system_prompt="Eres experto en DTE. Valida los documentos con validate_dte.",
                modules=("l10n_cl_dte",),
                keywords=("dte", "factura", "iva", "folio"),
                tools=(
                    ChatTool(
                        name="validate_dte",
                        description="Valida montos e IVA de un DTE",
                        input_schema=schema,
                        handler=self.validate_dte,
                    ),
                    ChatTool(
                        name="consultar_sii",
                        description="Consulta el estado de un DTE en el SII",
                        input_schema={"type": "object", "properties": {}},
                        handler=self.broken,
                    ),
                ),
            )
        ]

    @hookimpl
    def register_knowledge(self) -> list[KnowledgeDocument]:
        return [KnowledgeDocument(id="iva", title="IVA y totales", text=IVA_DOC)]


def emulator_messages(emulator: Any) -> list[dict[str, Any]]:
    """Bodies of the ``/v1/messages`` requests the emulator received, oldest first."""
    log = emulator.requests(limit=200)["requests"]
    return [r["body"] for r in log if r["path"] == "/v1/messages"]
