"""The plugin's declarations: config checked at start-up, records, chat tool, knowledge, docs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dte_builders import TODAY, factura_33, flat_odoo
from quipu.api import StartupError
from quipu_dte.config import DteConfig
from quipu_dte.rules import CATALOGUE, RULESET_VERSION
from quipu_dte.skills import chat_skill, knowledge

README = Path(__file__).parents[1] / "README.md"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("[plugins.dte.rules]\niva_rate = 'diecinueve'", "rules"),
        ("[plugins.dte.rules]\ntolerancia = 1", "tolerancia"),
        ("[plugins.dte.rules]\nseverity_overrides = { DTE_NOPE = 'warning' }", "DTE_NOPE"),
        ("[plugins.dte.rules]\nseverity_overrides = { DTE_IVA_MISMATCH = 'info' }", "rules"),
        ("[plugins.dte]\ntimezone = 'Marte/Olimpo'", "Marte/Olimpo"),
        ("[plugins.dte]\nai_review = 'sometimes'", "ai_review"),
        ("[plugins.dte]\nai_review = 'off'\nrequire_ai_review = true", "require_ai_review"),
        ("[plugins.dte]\nbatch_max_documents = 0", "batch_max_documents"),
        ("[plugins.dte]\nia = true", "ia"),
    ],
)
def test_bad_config_stops_start_up(
    make_quipu_app: Callable[..., Any], section: str, message: str
) -> None:
    from quipu_dte import plugin

    with pytest.raises(StartupError) as err:
        make_quipu_app([("dte", plugin)], config=section)
    assert message in str(err.value)
    assert "[plugins.dte]" in str(err.value)


def test_config_defaults() -> None:
    config = DteConfig()
    assert (config.ai_review, config.require_ai_review) == ("auto", False)
    assert (config.batch_max_documents, config.batch_llm_concurrency) == (500, 4)
    assert config.timezone == "America/Santiago"
    assert config.rule_config().amount_tolerance == 0


async def test_records_the_platform_sees(
    make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    from quipu_chat import plugin as chat
    from quipu_chat.runtime import CHAT_RUNTIME
    from quipu_dte import plugin as dte

    app = make_quipu_app([("dte", dte), ("chat", chat)])
    async with quipu_client(app) as client:
        info = (await client.get("/_platform/plugins")).json()
    registry = app.state["quipu"].registry
    runtime = registry.contexts["chat"].service(CHAT_RUNTIME)
    policy = registry.cache_policies["dte.validation"]
    assert (policy.ttl_s, policy.scope) == (900, "company")
    assert policy.cache_if is not None
    assert policy.cache_if({"status": "unavailable"}) is False
    assert set(registry.prompts) == {"dte.review@1", "dte.match_tiebreak@1"}
    skill = runtime.skills["dte.dte"]
    assert [t.name for t in skill.tools] == ["validate_dte"]
    assert "l10n_cl_dte" in skill.modules
    assert sorted(d for d in runtime.documents if d.startswith("dte.")) == [
        "dte.guias_despacho",
        "dte.iva_y_totales",
        "dte.notas_credito_debito",
        "dte.rechazos_comunes",
        "dte.tipos_dte",
    ]
    assert "dte" in str(info)
    assert not [w for w in registry.warnings if "dte" in w]


def test_importing_the_hooks_is_light() -> None:
    code = (
        "import sys, quipu_dte.plugin\n"
        "heavy = [m for m in ('quipu_dte.rules', 'quipu_dte.routes', 'lxml') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def _tool(context: Any, **arguments: Any) -> dict[str, Any]:
    (tool,) = chat_skill(DteConfig()).tools
    result: dict[str, Any] = await tool.handler(arguments, context)
    return result


async def test_validate_dte_tool_returns_codes_and_expected_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from quipu_dte import clock

    monkeypatch.setattr(clock, "today_in", lambda zone: TODAY)
    doc = factura_33()
    doc["Encabezado"]["Totales"]["IVA"] = 218847
    result = await _tool(SimpleNamespace(company_id=3), dte_data=doc)
    assert result["company_id"] == 3
    assert result["recommendation"] == "reject"
    assert result["ruleset_version"] == RULESET_VERSION
    (document,) = result["documents"]
    (finding,) = document["findings"]
    assert (finding["code"], finding["expected"], finding["actual"]) == (
        "DTE_IVA_MISMATCH",
        "218848",
        "218847",
    )
    clean = await _tool({"company_id": 3}, dte_data=flat_odoo(), history=[])
    assert clean["recommendation"] == "send"


async def test_validate_dte_tool_on_unreadable_input() -> None:
    from quipu_dte.errors import DteInputError

    with pytest.raises(DteInputError) as err:
        await _tool(None, dte_data={"tipo_dte": "33", "monto_iva": "12a"})
    assert isinstance(err.value, ValueError)  # the chat engine reports it as is_error
    assert err.value.problems[0][0] == "dte_data.monto_iva"
    with pytest.raises(DteInputError, match="dte_data"):
        await _tool(None)


def test_skill_prompt_and_schema() -> None:
    skill = chat_skill(DteConfig())
    assert "validate_dte" in skill.system_prompt
    (tool,) = skill.tools
    assert tool.input_schema["required"] == ["dte_data"]
    assert set(tool.input_schema["properties"]) == {"dte_data", "history"}


def test_knowledge_documents() -> None:
    docs = knowledge()
    assert len(docs) == 5
    assert all(d.title and d.text.startswith("# ") for d in docs)


def test_readme_lists_the_whole_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(DTE_[A-Z_]+)` \| (error|warning) \|", text, flags=re.M)
    assert rows == [(info.code, info.severity) for info in CATALOGUE.values()]
    assert RULESET_VERSION in text
