"""The :class:`Indicators` record: one month of Previred values as exact decimals.

Rates are stored in **percent** (``Decimal("1.44")`` means 1.44 %), exactly as
Previred publishes them and as the flat API keys carry them; amounts are pesos;
topes are UF. A field is ``None`` when no value is known for the month: the
shipped data never fills a gap by extrapolation (see ``data/*.toml``).
"""

import re
import unicodedata
from decimal import Decimal
from typing import Final, Literal

import msgspec

__all__ = [
    "AFP_LABELS",
    "AFP_NAMES",
    "AfpRate",
    "AsigFamTramo",
    "Indicators",
    "Origin",
    "afp_key",
]

#: Canonical keys of the seven AFPs operating in 2024-2026, in Previred's order.
AFP_NAMES: Final = ("capital", "cuprum", "habitat", "modelo", "planvital", "provida", "uno")

#: Display names used in messages.
AFP_LABELS: Final = {
    "capital": "Capital",
    "cuprum": "Cuprum",
    "habitat": "Habitat",
    "modelo": "Modelo",
    "planvital": "PlanVital",
    "provida": "ProVida",
    "uno": "Uno",
}

Origin = Literal["published", "admin", "llm", "slip"]

_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]+")


def afp_key(name: str) -> str | None:
    """Normalise an AFP name (``"AFP ProVida"``, ``"Plan Vital"``) to its key, or ``None``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    compact = _NOT_ALNUM.sub("", folded)
    if compact.startswith("afp"):
        compact = compact[3:]
    return compact if compact in AFP_NAMES else None


class AfpRate(msgspec.Struct, frozen=True):
    """One AFP's commission for the month (percent of the remuneración imponible)."""

    nombre: str
    comision_pct: Decimal

    @property
    def tasa_trabajador_pct(self) -> Decimal:
        """Worker rate for a dependent worker: 10 % (DL 3.500 art. 17) plus the commission."""
        return Decimal(10) + self.comision_pct


class AsigFamTramo(msgspec.Struct, frozen=True):
    """One asignación familiar bracket: monthly income up to ``hasta`` pays ``monto`` per carga."""

    tramo: int
    hasta: Decimal | None
    monto: Decimal


class Indicators(msgspec.Struct, frozen=True, kw_only=True):
    """Previred indicators of one remuneration month.

    ``uf`` is the UF of the **last day** of the month (the value the topes use);
    ``uf_mes_anterior`` the last day of the previous month. ``provisional`` lists
    the flat keys whose value is carried over without a month-specific source.
    The collection fields are tuples so that the record stays immutable.
    """

    period: str
    uf: Decimal | None = None
    uf_mes_anterior: Decimal | None = None
    utm: Decimal | None = None
    uta: Decimal | None = None
    sueldo_minimo: Decimal | None = None
    sueldo_minimo_menores_mayores: Decimal | None = None
    sueldo_minimo_no_remuneracional: Decimal | None = None
    afp_tope_uf: Decimal | None = None
    salud_tope_uf: Decimal | None = None
    afc_tope_uf: Decimal | None = None
    ips_tope_uf: Decimal | None = None
    apv_tope_mensual_uf: Decimal | None = None
    apv_tope_anual_uf: Decimal | None = None
    deposito_convenido_tope_anual_uf: Decimal | None = None
    sis_pct: Decimal | None = None
    afc_trabajador_indefinido: Decimal | None = None
    afc_empleador_indefinido: Decimal | None = None
    afc_trabajador_plazo_fijo: Decimal | None = None
    afc_empleador_plazo_fijo: Decimal | None = None
    afc_empleador_11_anios: Decimal | None = None
    fonasa_pct: Decimal | None = None
    aporte_empleador_pct: Decimal | None = None
    aporte_empleador_cci_pct: Decimal | None = None
    aporte_empleador_ssp_pct: Decimal | None = None
    afp: tuple[AfpRate, ...] = ()
    asig_fam: tuple[AsigFamTramo, ...] = ()
    provisional: tuple[str, ...] = ()
    origin: Origin = "published"

    def commission(self, name: str) -> Decimal | None:
        """Return the commission (percent) of the AFP ``name`` this month, if known."""
        key = afp_key(name)
        for rate in self.afp:
            if rate.nombre == key:
                return rate.comision_pct
        return None
