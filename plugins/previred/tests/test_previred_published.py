"""Shipped indicator values against the figures published in domain-chile.md §3-§4."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from quipu_previred.indicators import (
    AFP_NAMES,
    Indicators,
    PeriodError,
    load_published,
    published_month,
    published_periods,
    shift_period,
    value_runs,
)

D = Decimal


def peso(value: Decimal) -> int:
    return int(value.quantize(D(1), rounding=ROUND_HALF_UP))


def published(period: str) -> Indicators:
    ind = load_published(period)
    assert ind is not None, period
    return ind


def test_july_2025_matches_the_previred_page() -> None:
    # domain-chile.md §4.3: Previred's July-2025 page (mirror), cross-checked value by value.
    ind = published("2025-07")
    assert ind.uf == D("39179.01")
    assert ind.utm == D("68923")
    assert ind.uta == D("827076")
    assert ind.afp_tope_uf == D("87.8")
    assert ind.afc_tope_uf == D("131.9")
    assert ind.sueldo_minimo == D("529000")
    assert ind.sueldo_minimo_menores_mayores == D("394622")
    assert ind.sueldo_minimo_no_remuneracional == D("340988")
    assert ind.sis_pct == D("1.88")
    assert peso(ind.afp_tope_uf * ind.uf) == 3_439_917
    assert peso(ind.afc_tope_uf * ind.uf) == 5_167_711
    assert D("13.5") * ind.utm == D("930460.5")  # exento limit of the tax table
    assert ind.uf_mes_anterior == D("39267.07")  # the "31/07" quirk of the mirror is June's UF
    rates = {rate.nombre: rate.tasa_trabajador_pct for rate in ind.afp}
    assert rates == {
        "capital": D("11.44"),
        "cuprum": D("11.44"),
        "habitat": D("11.27"),
        "modelo": D("10.58"),
        "planvital": D("11.16"),
        "provida": D("11.45"),
        "uno": D("10.49"),
    }
    tramos = [(t.tramo, t.hasta, t.monto) for t in ind.asig_fam]
    assert tramos == [
        (1, D(620251), D(22007)),
        (2, D(905941), D(13505)),
        (3, D(1412957), D(4267)),
        (4, None, D(0)),
    ]
    assert (ind.afc_trabajador_indefinido, ind.afc_empleador_indefinido) == (D("0.6"), D("2.4"))
    assert (ind.afc_trabajador_plazo_fijo, ind.afc_empleador_plazo_fijo) == (D(0), D("3.0"))
    assert ind.fonasa_pct == D(7)
    assert ind.aporte_empleador_pct is None  # Ley 21.735 starts with August 2025
    assert ind.provisional == (
        "apv_tope_anual_uf",
        "apv_tope_mensual_uf",
        "deposito_convenido_tope_anual_uf",
    )


# domain-chile.md §4.2: month, UF last day, UTM, UTA, tope AFP $, tope AFC $, IPS $, IMM, grat cap.
TABLE_4_2 = [
    ("2025-01", "38384.41", 67429, 809148, 3370151, 5062904, 2303065, 510636, 202127),
    ("2025-02", "38647.94", 67294, 807528, 3393289, 5097663, 2318876, 510636, 202127),
    ("2025-03", "38894.11", 68034, 816408, 3414903, 5130133, 2333647, 510636, 202127),
    ("2025-04", "39075.41", 68306, 819672, 3430821, 5154047, 2344525, 510636, 202127),
    ("2025-05", "39189.45", 68648, 823776, 3440834, 5169088, 2351367, 529000, 209396),
    ("2025-06", "39267.07", 68785, 825420, 3447649, 5179327, 2356024, 529000, 209396),
    ("2025-07", "39179.01", 68923, 827076, 3439917, 5167711, 2350741, 529000, 209396),
    ("2025-08", "39383.07", 68647, 823764, 3457834, 5194627, 2362984, 529000, 209396),
    ("2025-09", "39485.65", 69265, 831180, 3466840, 5208157, 2369139, 529000, 209396),
    ("2025-10", "39597.67", 69265, 831180, 3476675, 5222933, 2375860, 529000, 209396),
    ("2025-11", "39643.59", 69542, 834504, 3480707, 5228990, 2378615, 529000, 209396),
    ("2025-12", "39727.96", 69542, 834504, 3488115, 5240118, 2383678, 529000, 209396),
    ("2026-01", "39706.07", 69751, 837012, 3569576, 5364290, 2382364, 539000, 213354),
    ("2026-02", "39790.63", 69611, 835332, 3581157, 5379693, 2387438, 539000, 213354),
    ("2026-03", "39841.72", 69889, 838668, 3585755, 5386601, 2390503, 539000, 213354),
    ("2026-04", "40120.20", 69889, 838668, 3610818, 5424251, 2407212, 539000, 213354),
]


@pytest.mark.parametrize(
    ("period", "uf", "utm", "uta", "tope_afp", "tope_afc", "ips", "imm", "grat"), TABLE_4_2
)
def test_month_table_reproduces_the_reference(
    period: str,
    uf: str,
    utm: int,
    uta: int,
    tope_afp: int,
    tope_afc: int,
    ips: int,
    imm: int,
    grat: int,
) -> None:
    ind = published(period)
    assert ind.uf == D(uf)
    assert (ind.utm, ind.uta) == (D(utm), D(uta))
    assert ind.afp_tope_uf is not None
    assert ind.afc_tope_uf is not None
    assert ind.ips_tope_uf is not None
    assert ind.sueldo_minimo is not None
    assert peso(ind.afp_tope_uf * ind.uf) == tope_afp
    assert peso(ind.afc_tope_uf * ind.uf) == tope_afc
    assert peso(ind.ips_tope_uf * ind.uf) == ips
    assert ind.salud_tope_uf == ind.afp_tope_uf
    assert ind.sueldo_minimo == imm
    assert peso(D("4.75") * ind.sueldo_minimo / 12) == grat


def test_december_2024_and_the_2024_topes() -> None:
    ind = published("2024-12")
    assert (ind.uf, ind.utm, ind.uta) == (D("38416.69"), D(67294), D(807528))
    assert (ind.afp_tope_uf, ind.afc_tope_uf, ind.ips_tope_uf) == (D("84.3"), D("126.6"), D(60))
    assert ind.sueldo_minimo == 500_000
    assert ind.sis_pct == D("1.49")
    assert [rate.nombre for rate in ind.afp] == ["uno"]


def test_utm_rule_reproduces_every_shipped_utm() -> None:
    # domain-chile.md §4.2: UTM(m) = round(UTM(m-1) x (1 + CPI(m-2))), INE CPI in percent.
    cpi = dict(
        zip(
            [shift_period("2024-10", i) for i in range(19)],
            [
                "1.0",
                "0.2",
                "-0.2",
                "1.1",
                "0.4",
                "0.5",
                "0.2",
                "0.2",
                "-0.4",
                "0.9",
                "0.0",
                "0.4",
                "0.0",
                "0.3",
                "-0.2",
                "0.4",
                "0.0",
                "1.0",
                "1.3",
            ],
            strict=True,
        )
    )
    period, utm = "2024-12", D(67294)
    while period < "2026-06":
        period = shift_period(period, 1)
        utm = D(peso(utm * (1 + D(cpi[shift_period(period, -2)]) / 100)))
        assert published(period).utm == utm, period
        assert published(period).uta == 12 * utm, period


def test_topes_change_in_january_and_february_2026() -> None:
    assert published("2025-12").afp_tope_uf == D("87.8")
    assert (published("2026-01").afp_tope_uf, published("2026-01").afc_tope_uf) == (
        D("89.9"),
        D("135.1"),
    )
    assert (published("2026-02").afp_tope_uf, published("2026-02").afc_tope_uf) == (
        D("90.0"),
        D("135.2"),
    )
    runs = value_runs("afp_tope_uf", "2025-01", "2026-03")
    assert [(r.first, r.last, r.value) for r in runs] == [
        ("2025-01", "2025-12", D("87.8")),
        ("2026-01", "2026-01", D("89.9")),
        ("2026-02", "2026-03", D("90.0")),
    ]


def test_afp_uno_commission_cut_in_october_2025() -> None:
    assert published("2025-09").commission("Uno") == D("0.49")
    assert published("2025-10").commission("AFP Uno") == D("0.46")
    assert published("2024-06").commission("uno") == D("0.49")


def test_ley_21735_employer_contribution_from_august_2025() -> None:
    assert published("2025-07").aporte_empleador_pct is None
    august = published("2025-08")
    assert (
        august.aporte_empleador_pct,
        august.aporte_empleador_cci_pct,
        august.aporte_empleador_ssp_pct,
    ) == (D("1.0"), D("0.1"), D("0.9"))


def test_partial_months_leave_unknown_values_empty() -> None:
    early_2024 = published("2024-03")
    assert early_2024.uf is None
    assert early_2024.utm is None
    assert early_2024.sueldo_minimo is None
    assert early_2024.afp_tope_uf == D("84.3")  # fixed for the whole of 2024
    assert published("2025-04").asig_fam == ()  # brackets only from 2025-05-01
    assert published("2025-03").sis_pct is None  # conflicting sources: not shipped
    may_2026 = published("2026-05")
    assert may_2026.uf == D("40610.69")
    assert may_2026.sueldo_minimo is None
    assert "utm" in may_2026.provisional
    june_2026 = published("2026-06")
    assert june_2026.uf is None
    assert june_2026.utm == D(71506)
    assert "utm" in june_2026.provisional


def test_carried_2026_commissions_are_marked_provisional() -> None:
    ind = published("2026-03")
    assert ind.commission("Capital") == D("1.44")
    assert {f"afp_{name}_comision_pct" for name in AFP_NAMES} <= set(ind.provisional)
    assert not any(key.startswith("afp_") for key in published("2025-11").provisional)


@pytest.mark.parametrize("period", ["2023-12", "2026-07", "2026-11", "1999-01"])
def test_month_without_data_is_none(period: str) -> None:
    assert load_published(period) is None


@pytest.mark.parametrize("period", ["2025-13", "abc", "2025-7", ""])
def test_malformed_period_raises(period: str) -> None:
    with pytest.raises(PeriodError):
        load_published(period)


def test_coverage_is_january_2024_to_june_2026() -> None:
    periods = published_periods()
    assert periods[0] == "2024-01"
    assert periods[-1] == "2026-06"
    assert len(periods) == 30


def test_every_shipped_value_has_a_source() -> None:
    for period in published_periods():
        month = published_month(period)
        assert month is not None
        assert set(month.values) == set(month.sources), period
        for key, source in month.sources.items():
            assert len(source) > 20, (period, key)
