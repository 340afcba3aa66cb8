"""Chat's own hooks: other plugins contribute through them as a third party would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat_kit import ToolPlugin
from quipu.api import PluginContext, StartupError, hookimpl
from quipu.app import build_platform
from quipu.config import load_settings
from quipu_chat import plugin as chat
from quipu_chat.records import ChatSkill, KnowledgeDocument
from quipu_chat.runtime import CHAT_RUNTIME


def build(tmp_path: Path, **plugins: object) -> Any:
    cfg = tmp_path / "platform.toml"
    cfg.write_text("")
    return build_platform(load_settings(cfg, env={}), plugins=plugins.items(), autoload=False)


class Lender:
    """A third party's plugin: chat's hooks are optional to it."""

    def __init__(self) -> None:
        self.contexts: list[PluginContext[Any]] = []

    @hookimpl(optionalhook=True)
    def register_chat_skills(self, platform: PluginContext[Any]) -> list[ChatSkill]:
        self.contexts.append(platform)
        return [ChatSkill(name="lender", description="Préstamos", system_prompt="Ayuda.")]

    @hookimpl(optionalhook=True)
    def register_knowledge(self) -> list[KnowledgeDocument]:
        return [KnowledgeDocument(id="guia", title="Guía", text="# Guía\nTexto.")]


def test_contributions_are_collected_namespaced_with_each_plugins_context(
    tmp_path: Path,
) -> None:
    lender = Lender()
    registry = build(tmp_path, chat=chat, lender=lender)
    runtime = registry.contexts["chat"].service(CHAT_RUNTIME)
    assert {"chat.general", "lender.lender"} <= set(runtime.skills)
    assert {"chat.uso_asistente", "lender.guia"} <= set(runtime.documents)
    assert [c.name for c in lender.contexts] == ["lender"]
    assert registry.plugin("lender").contributions == {
        "register_chat_skills": ("lender",),
        "register_knowledge": ("guia",),
    }


def test_a_plugin_lending_to_chat_loads_without_chat(tmp_path: Path) -> None:
    lender = Lender()
    registry = build(tmp_path, lender=lender)
    assert registry.plugin("lender") is not None
    assert lender.contexts == []


def test_a_tool_lent_twice_blames_the_newcomer(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as err:
        build(tmp_path, chat=chat, atools=ToolPlugin(), ztools=ToolPlugin())
    message = str(err.value)
    assert "plugin 'ztools': chat tool 'validate_dte' is already claimed by plugin 'atools'" in (
        message
    )


def test_a_bad_contribution_names_its_plugin(tmp_path: Path) -> None:
    class Sloppy:
        @hookimpl(optionalhook=True)
        def register_knowledge(self) -> list[Any]:
            return ["not a document"]

    with pytest.raises(StartupError) as err:
        build(tmp_path, chat=chat, sloppy=Sloppy())
    message = str(err.value)
    assert "plugin 'sloppy': register_knowledge returned a str, expected KnowledgeDocument" in (
        message
    )
    assert "fix: return quipu_chat.records.KnowledgeDocument(...) records" in message
