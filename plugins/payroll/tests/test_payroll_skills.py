"""The payroll chat skill, its compute_payslip tool, the knowledge documents and the
declarations the platform checks."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, post
from litestar.params import JSONBody
from payroll_examples import EXAMPLE_B, EXAMPLE_C, variant
from quipu.api import hookimpl
from quipu_payroll.knowledge import DOCUMENT_IDS, knowledge_documents
from quipu_payroll.skills import compute_payslip_tool


@post("/api/test/compute_payslip", status_code=200)
async def call_tool(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> Any:
    """Run the tool on the app's loop with payroll's context, as the skill binds it."""
    return await compute_payslip_tool(data, request.app.state["quipu"].registry.contexts["payroll"])


class ToolCaller:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [call_tool]


def test_the_plugin_declares_skill_knowledge_prompt_and_policy(make_quipu_app: Any) -> None:
    from quipu_chat import plugin as chat
    from quipu_chat.runtime import CHAT_RUNTIME
    from quipu_payroll import plugin as payroll
    from quipu_previred import plugin as previred

    app = make_quipu_app([("payroll", payroll), ("previred", previred), ("chat", chat)])
    registry = app.state["quipu"].registry
    runtime = registry.contexts["chat"].service(CHAT_RUNTIME)
    skill = runtime.skills["payroll.payroll"]
    assert [tool.name for tool in skill.tools] == ["compute_payslip"]
    assert {"hr_payroll", "l10n_cl_hr_payroll"} <= set(skill.modules)
    assert "liquidación" in skill.keywords
    assert {f"payroll.{doc_id}" for doc_id in DOCUMENT_IDS} <= set(runtime.documents)
    assert "payroll.review@1" in registry.prompts
    assert registry.cache_policies["payroll.review"].scope == "company"
    assert registry.configs["payroll"].ai_review == "auto"


async def test_compute_payslip_in_a_request(
    make_quipu_app: Any, quipu_client: Any, flush_redis: None
) -> None:
    from quipu_payroll import plugin as payroll
    from quipu_previred import plugin as previred

    app = make_quipu_app(
        [("payroll", payroll), ("previred", previred), ("tooltest", ToolCaller())],
        config="[plugins.previred]\nfetch_urls = []\n",
    )
    async with quipu_client(app) as client:

        async def tool(data: dict[str, Any]) -> Any:
            return (await client.post("/api/test/compute_payslip", json=data)).json()

        clean = await tool(EXAMPLE_C)
        wrong = await tool(variant(EXAMPLE_B, descuentos={"afp": 400183}))
        future = await tool({"periodo": "2030-01", "haberes": {"sueldo_base": 900000}})
        bad = await tool({"periodo": "julio", "haberes": {}})
    assert clean["success"] is True
    assert clean["recommendation"] == "approve"
    assert clean["breakdown"]["liquido"] == 602_607
    assert clean["breakdown"]["asignacion_familiar"] == 27_010
    assert clean["indicators_source"] == "published"
    stale = [f for f in wrong["findings"] if f["code"] == "PAY_TOPE_STALE"]
    assert stale[0]["expected"] == 410_210
    assert future["indicators_source"] == "none"
    assert "PAY_INDICATORS_UNAVAILABLE" in [f["code"] for f in future["findings"]]
    assert bad["success"] is False
    assert bad["problems"][0]["path"] == "periodo"


async def test_compute_payslip_without_a_platform_uses_shipped_values() -> None:
    answer = await compute_payslip_tool(EXAMPLE_C, None)
    assert answer["breakdown"]["liquido"] == 602_607


def test_knowledge_documents_are_spanish_markdown_with_titles() -> None:
    documents = knowledge_documents()
    assert [doc_id for doc_id, _, _ in documents] == list(DOCUMENT_IDS)
    for _, title, text in documents:
        assert title
        assert text.startswith("# ")
    texts = "\n".join(text for _, _, text in documents)
    for fact in ("$ 1.235.108", "87,8 UF", "0,6 %", "13,5", "4,75", "$ 22.007"):
        assert fact in texts, fact


def test_payroll_without_previred_stops_start_up_naming_it(make_quipu_app: Any) -> None:
    """Payroll resolves indicators through previred's typed service, looked up in a hook."""
    from quipu.api import StartupError
    from quipu_payroll import plugin as payroll

    with pytest.raises(StartupError) as err:
        make_quipu_app([("payroll", payroll)])
    message = str(err.value)
    assert "plugin 'payroll': register_routes: needs the service 'previred.indicators'" in message
    assert "(probably 'previred')" in message
