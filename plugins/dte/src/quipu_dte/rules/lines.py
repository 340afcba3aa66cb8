"""Per-line arithmetic: A1 (MontoItem), A2 (discount/surcharge %), A3/R4 (zero lines)."""

from quipu_dte.money import fmt_pct
from quipu_dte.rules.context import Ctx, fmt, rule

__all__ = ["check_lines"]


@rule(
    "line_arithmetic",
    "DTE_LINE_AMOUNT_MISMATCH",
    "DTE_LINE_DISCOUNT_MISMATCH",
    "DTE_LINE_SURCHARGE_MISMATCH",
    "DTE_LINE_ZERO_REQUIRED",
)
def check_lines(ctx: Ctx) -> bool:
    """MontoItem = round(QtyItem × PrcItem) − DescuentoMonto + RecargoMonto, per line."""
    doc = ctx.doc
    if not doc.detalle:
        return False
    tolerance = ctx.config.line_tolerance
    for i, (line, calc) in enumerate(zip(doc.detalle, ctx.arithmetic.lines, strict=True)):
        n = line.nro_lin_det or i + 1
        q = f"Detalle[{i}]"
        if line.monto_item is None:
            continue  # reported by DTE_REQUIRED_FIELD
        if calc.zero_required:
            if line.monto_item != 0:
                why = (
                    "la nota solo corrige texto (CodRef 2)"
                    if ctx.text_correction
                    else f"el ítem tiene IndExe {line.ind_exe}"
                )
                ctx.add(
                    "DTE_LINE_ZERO_REQUIRED",
                    f"{q}.MontoItem",
                    f"Línea {n}: el monto debe ser 0 porque {why}; "
                    f"declarado {fmt(line.monto_item)}.",
                    expected="0",
                    actual=line.monto_item,
                )
            continue
        if calc.base is None or calc.expected is None:
            continue  # without PrcItem the MontoItem stands alone (A1)
        for pct, monto, computed, code, label, field in (
            (
                line.descuento_pct,
                line.descuento_monto,
                calc.discount,
                "DTE_LINE_DISCOUNT_MISMATCH",
                "descuento",
                "DescuentoMonto",
            ),
            (
                line.recargo_pct,
                line.recargo_monto,
                calc.surcharge,
                "DTE_LINE_SURCHARGE_MISMATCH",
                "recargo",
                "RecargoMonto",
            ),
        ):
            if pct is None or computed is None or monto == computed:
                continue
            ctx.add(
                code,
                f"{q}.{field}",
                f"Línea {n}: {label} declarado {fmt(monto)}, esperado {fmt(computed)} "
                f"({fmt_pct(pct)} de {fmt(calc.base)}).",
                expected=computed,
                actual=monto,
            )
        if line.monto_item in calc.accepted or (
            tolerance and any(abs(line.monto_item - a) <= tolerance for a in calc.accepted)
        ):
            continue
        qty = fmt(line.cantidad) if line.cantidad is not None else "1"
        detail = f"{qty} × {fmt(line.precio)}"
        if calc.discount:
            detail += f" − descuento {fmt(calc.discount)}"
        if calc.surcharge:
            detail += f" + recargo {fmt(calc.surcharge)}"
        ctx.add(
            "DTE_LINE_AMOUNT_MISMATCH",
            f"{q}.MontoItem",
            f"Línea {n}: monto declarado {fmt(line.monto_item)}, esperado {fmt(calc.expected)} "
            f"({detail}).",
            expected=calc.expected,
            actual=line.monto_item,
        )
    return True
