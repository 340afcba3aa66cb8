"""Skill routing: ERP module first, then keyword scoring, then the general skill."""

from __future__ import annotations

import msgspec
import pytest
from quipu_chat.config import DEFAULT_MODULE_MAP, ChatConfig
from quipu_chat.records import ChatSkill
from quipu_chat.routing import (
    GENERAL_SKILL,
    GENERAL_SKILL_KEY,
    SkillRouter,
    choose_skill,
    with_general,
)

SKILLS = {
    "dte.dte": ChatSkill(
        name="dte",
        description="Facturación electrónica chilena",
        system_prompt="…",
        modules=("l10n_cl_dte",),
        keywords=("factura", "boleta", "nota de crédito", "folio", "caf", "sii", "guía"),
    ),
    "payroll.payroll": ChatSkill(
        name="payroll",
        description="Remuneraciones y liquidaciones de sueldo",
        system_prompt="…",
        modules=("l10n_cl_hr_payroll",),
        keywords=("liquidación", "sueldo", "afp", "isapre", "bono", "gratificación"),
    ),
    "previred.previred": ChatSkill(
        name="previred",
        description="Indicadores previsionales publicados",
        system_prompt="…",
        keywords=("previred", "indicadores", "uf", "utm", "tope imponible", "sii"),
    ),
    "stockx.inventario": ChatSkill(
        name="inventario", description="Bodegas", system_prompt="…", modules=("stock",)
    ),
}
MAP = ChatConfig().modules


@pytest.fixture(scope="module")
def router() -> SkillRouter:
    return SkillRouter(with_general(SKILLS), MAP)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("l10n_cl_dte", "dte.dte"),
        ("account", "dte.dte"),
        ("purchase", "dte.dte"),
        ("hr_payroll", "payroll.payroll"),  # the Odoo wizard's name
        ("l10n_cl_hr_payroll", "payroll.payroll"),
        ("previred", "previred.previred"),
        (" HR_PAYROLL ", "payroll.payroll"),
        ("stock", "stockx.inventario"),  # declared by the skill itself
        ("dte", "dte.dte"),  # a plugin's name
    ],
)
def test_a_named_module_decides(router: SkillRouter, module: str, expected: str) -> None:
    choice = router.choose("¿cuánto es mi sueldo líquido?", module)
    assert choice.key == expected
    assert "module" in choice.reason


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("¿Cómo anulo una nota de credito?", "dte.dte"),
        ("Tengo dos FACTURAS rechazadas", "dte.dte"),
        ("¿Cómo se calcula la gratificación en la liquidación?", "payroll.payroll"),
        ("¿Cuál es el valor de la UF y la UTM este mes?", "previred.previred"),
        ("indicadores del SII", "previred.previred"),  # "sii" is shared: it weighs half
        ("Fui a la cafetería", GENERAL_SKILL_KEY),  # caf is a whole word, not a substring
        ("Registré un abono en la cuenta", GENERAL_SKILL_KEY),  # bono ≠ abono
        ("Hola, ¿cómo estás?", GENERAL_SKILL_KEY),
        ("", GENERAL_SKILL_KEY),
    ],
)
def test_keywords_score_whole_words(router: SkillRouter, message: str, expected: str) -> None:
    assert router.choose(message).key == expected


def test_unknown_modules_fall_back_to_keywords_then_general(router: SkillRouter) -> None:
    assert router.choose("mi liquidación de sueldo", "project").key == "payroll.payroll"
    fallback = router.choose("buenos días", "project")
    assert fallback.key == GENERAL_SKILL_KEY
    assert "project unknown" in fallback.reason


def test_scores_are_explained(router: SkillRouter) -> None:
    scores = router.scores("nota de crédito para una factura del SII")
    score, matched = scores["dte.dte"]
    assert matched == ["factura", "nota de crédito", "sii"]
    assert score == pytest.approx(1 + 2 + 0.5)  # "sii" is shared with previred: half
    choice = router.choose("nota de crédito para una factura del SII")
    assert choice.key == "dte.dte"
    assert "nota de crédito" in choice.reason


def test_description_terms_count_but_capped(router: SkillRouter) -> None:
    score, matched = router.scores("bodegas")["stockx.inventario"]
    assert (score, matched) == (0.5, [])
    assert router.choose("bodegas").key == GENERAL_SKILL_KEY  # below min_score 1.0


def test_ties_go_to_the_first_key() -> None:
    twins = {
        "b.b": ChatSkill(name="b", description="", system_prompt="", keywords=("folio",)),
        "a.a": ChatSkill(name="a", description="", system_prompt="", keywords=("caf",)),
    }
    assert choose_skill("folio y caf", None, twins, {}).key == "a.a"
    # A keyword both share tells neither apart: half a point each, under the minimum.
    assert choose_skill("folio", None, {**twins, "a.a": twins["b.b"]}, {}).key == GENERAL_SKILL_KEY


def test_module_map_config_merges_over_defaults() -> None:
    config = msgspec.convert(
        {"module_map": {"stock": "general", "account": "payroll"}}, ChatConfig, strict=False
    )
    assert config.modules["stock"] == "general"
    assert config.modules["account"] == "payroll"
    assert config.modules["l10n_cl_dte"] == DEFAULT_MODULE_MAP["l10n_cl_dte"]
    router = SkillRouter(SKILLS, config.modules)
    assert router.choose("factura", "stock").key == GENERAL_SKILL_KEY
    assert router.choose("factura", "account").key == "payroll.payroll"


def test_with_general() -> None:
    table = with_general(SKILLS)
    assert table[GENERAL_SKILL_KEY] is GENERAL_SKILL
    assert set(SKILLS) <= set(table)
    assert GENERAL_SKILL.system_prompt.startswith("Eres el asistente")
