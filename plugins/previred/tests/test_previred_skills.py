"""The chat skill, its get_indicators tool, the knowledge documents and the prompt."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import JSONBody
from quipu.api import hookimpl
from quipu_previred.knowledge import DOCUMENT_IDS, knowledge_documents
from quipu_previred.skills import get_indicators_tool


async def test_the_plugin_declares_skill_tool_knowledge_prompt_and_policies(
    previred_app: Any,
) -> None:
    from quipu_chat import plugin as chat
    from quipu_chat.runtime import CHAT_RUNTIME

    registry = previred_app(plugins=[("chat", chat)]).state["quipu"].registry
    runtime = registry.contexts["chat"].service(CHAT_RUNTIME)
    skill = runtime.skills["previred.previred"]
    assert [tool.name for tool in skill.tools] == ["get_indicators"]
    assert "uf" in skill.keywords
    assert {f"previred.{doc_id}" for doc_id in DOCUMENT_IDS} <= set(runtime.documents)
    assert "previred.extract@1" in registry.prompts
    closed = registry.cache_policies["previred.indicators_closed"]
    current = registry.cache_policies["previred.indicators_current"]
    assert (closed.ttl_s, current.ttl_s) == (30 * 86400, 3600)
    assert closed.scope == current.scope == "global"


@post("/api/test/get_indicators", status_code=200)
async def call_tool(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> Any:
    """Run the tool on the app's loop with a plugin's context, as the skill binds it."""
    contexts = request.app.state["quipu"].registry.contexts
    return await get_indicators_tool(data["input"], contexts[data["context"]])


class ToolCaller:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [call_tool]


async def test_get_indicators_answers_like_the_route(previred_app: Any, quipu_client: Any) -> None:
    async with quipu_client(previred_app(plugins=[("tooltest", ToolCaller())])) as client:

        async def tool(period: str, context: str = "previred") -> Any:
            body = {"input": {"period": period}, "context": context}
            return (await client.post("/api/test/get_indicators", json=body)).json()

        route = (await client.get("/api/payroll/indicators/2025-07")).json()
        # Any plugin's context reaches the app's lookup (previred's own, or another's).
        answers = [await tool("2025-07", context) for context in ("previred", "tooltest")]
        missing = await tool("2030-01")
        bad = await tool("julio")
    assert answers == [route] * 2
    tool = answers[0]
    assert tool["indicators"]["uf"] == 39179.01
    assert missing["success"] is False
    assert missing["status"] == 404
    assert "2030-01" in missing["detail"]
    assert bad["success"] is False


async def test_get_indicators_without_a_platform_uses_the_shipped_values() -> None:
    answer = await get_indicators_tool({"period": "2026-03"}, None)
    assert answer["indicators"]["uf"] == 39841.72
    assert answer["metadata"]["source"] == "published"
    assert (await get_indicators_tool({"period": "2026-09"}, None))["status"] == 404


def test_knowledge_documents_are_spanish_markdown_with_titles() -> None:
    documents = knowledge_documents()
    assert [doc_id for doc_id, _, _ in documents] == list(DOCUMENT_IDS)
    for _, title, text in documents:
        assert title
        assert text.startswith("# ")
    text = {d: t for d, _, t in documents}["indicadores_previsionales"]
    assert "87,8 UF" in text
    assert "39.179,01" in text
