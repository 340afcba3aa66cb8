"""Stable finding codes: severity, meaning and source of each rule.

Codes never change meaning once released; a changed rule gets a new
:data:`RULESET_VERSION`. Sources are the short names of domain-chile.md.
"""

from typing import Final, Literal

import msgspec

__all__ = ["CATALOGUE", "RULESET_VERSION", "CodeInfo", "Severity"]

#: Bump on any change to a rule's logic, a default, or a message.
RULESET_VERSION: Final = "2026.12.1"

Severity = Literal["error", "warning"]


class CodeInfo(msgspec.Struct, frozen=True):
    """Catalogue entry for one finding code."""

    code: str
    severity: Severity
    meaning: str
    source: str


_E: Final = "error"
_W: Final = "warning"

_ROWS: Final[tuple[tuple[str, Severity, str, str], ...]] = (
    # Identity: type, folio, RUT (§1, §2.1, §2.2)
    ("DTE_TYPE_UNKNOWN", _E, "Tipo de documento no es un DTE conocido", "SII-FORMATO p.11"),
    ("DTE_FOLIO_INVALID", _E, "Folio no es un entero positivo de hasta 10 dígitos", "SII-XSD"),
    ("DTE_RUT_FORMAT", _E, "RUT con formato inválido (cuerpo-DV)", "SII-XSD RUTType"),
    ("DTE_RUT_CHECK_DIGIT", _E, "Dígito verificador del RUT no corresponde (módulo 11)", "§1.2"),
    ("DTE_RUT_RANGE", _E, "Cuerpo del RUT fuera de 100.000 – 99.999.999", "SII-FORMATO"),
    ("DTE_RUT_NOT_CANONICAL", _E, "RUT en XML con puntos o 'k' minúscula", "SII-XSD RUTType"),
    ("DTE_RUT_SAME_PARTIES", _W, "Emisor y receptor son el mismo RUT", "service policy"),
    # Structure and schema (§2.2, §2.10)
    (
        "DTE_REQUIRED_FIELD",
        _E,
        "Falta un campo obligatorio para el tipo de documento",
        "SII-FORMATO p.9-10",
    ),
    (
        "DTE_RECOMMENDED_FIELD",
        _W,
        "Falta un campo que el SII espera (p. ej. FmaPago)",
        "SII-FORMATO",
    ),
    (
        "DTE_FIELD_NOT_ALLOWED",
        _E,
        "Campo o zona no permitida para este tipo de documento",
        "SII-FORMATO p.9",
    ),
    ("DTE_ENUM_INVALID", _E, "Valor fuera de la lista permitida por el esquema", "SII-XSD"),
    (
        "DTE_LIMIT_EXCEEDED",
        _E,
        "Demasiadas líneas, referencias, impuestos o descuentos",
        "SII-XSD, SII-FORMATO",
    ),
    ("DTE_FIELD_LENGTH", _E, "Texto más largo que lo permitido por el esquema", "SII-XSD"),
    ("DTE_LINE_NUMBERING", _E, "NroLinDet no es correlativo 1..n", "SII-FORMATO"),
    ("DTE_AMOUNT_NOT_INTEGER", _E, "Monto en pesos con decimales", "§2.3"),
    (
        "DTE_AMOUNT_NEGATIVE",
        _E,
        "Monto negativo (solo permitido en liquidación-factura)",
        "SII-FORMATO p.27, A16",
    ),
    # Arithmetic (§2.3)
    ("DTE_LINE_AMOUNT_MISMATCH", _E, "MontoItem ≠ cantidad × precio − descuento + recargo", "A1"),
    ("DTE_LINE_DISCOUNT_MISMATCH", _E, "DescuentoMonto no corresponde a DescuentoPct", "A2"),
    ("DTE_LINE_SURCHARGE_MISMATCH", _E, "RecargoMonto no corresponde a RecargoPct", "A2"),
    (
        "DTE_LINE_ZERO_REQUIRED",
        _E,
        "MontoItem debe ser 0 (IndExe 4/5 o nota que corrige texto)",
        "A3, R4",
    ),
    ("DTE_DSCRCG_INVALID", _E, "Descuento o recargo global inconsistente", "A4, A17"),
    ("DTE_NETO_MISMATCH", _E, "MntNeto ≠ suma de líneas afectas ± descuentos/recargos", "A4"),
    ("DTE_EXENTO_MISMATCH", _E, "MntExe ≠ suma de líneas exentas ± descuentos/recargos", "A5"),
    ("DTE_IVA_RATE", _E, "TasaIVA distinta de 19%", "A7"),
    ("DTE_IVA_MISMATCH", _E, "IVA ≠ MntNeto × TasaIVA (boleta: total − neto)", "A6, A15"),
    ("DTE_TAX_CODE_UNKNOWN", _W, "Código de impuesto adicional no reconocido", "§2.4"),
    ("DTE_TAX_RATE", _W, "Tasa de impuesto adicional distinta de la tasa legal", "§2.4"),
    ("DTE_TAX_AMOUNT_MISMATCH", _E, "MontoImp ≠ tasa × suma de líneas con ese código", "A9"),
    (
        "DTE_TOTAL_MISMATCH",
        _E,
        "MntTotal ≠ neto + IVA + exento + impuestos − retenciones − CredEC "
        "(boleta: suma de líneas con IVA incluido + exentas)",
        "A8, A13, A15",
    ),
    ("DTE_IVA_NO_RET_MISMATCH", _E, "IVANoRet ≠ IVA − IVA retenido", "A10"),
    ("DTE_CRED_EC_MISMATCH", _E, "CredEC mayor que el 65% del IVA", "A11"),
    ("DTE_MONTO_NF_MISMATCH", _E, "MontoNF o MontoPeriodo no cuadran", "A12"),
    ("DTE_TOTAL_ZERO", _W, "Documento de venta con monto total 0", "service policy"),
    # Type-specific (§2.8)
    ("DTE_EXEMPT_WITH_IVA", _E, "Documento exento con MntNeto, IVA o TasaIVA", "A13"),
    (
        "DTE_SHOULD_BE_EXEMPT",
        _E,
        "33 (39) sin ninguna línea afecta: debe emitirse como 34 (41)",
        "SII-FORMATO p.31, A14",
    ),
    ("DTE_EXPORT_RECEPTOR", _W, "Documento de exportación sin receptor 55.555.555-5", "§2.8"),
    # References (§2.5)
    ("DTE_REF_MISSING", _E, "Falta la referencia obligatoria (notas, guías a rebajar)", "R1, R9"),
    (
        "DTE_REF_TYPE_INVALID",
        _E,
        "Nota cuyas referencias no corresponden a su tipo (exportación o no)",
        "R1",
    ),
    ("DTE_REF_CODREF_MISSING", _E, "Referencia de nota sin CodRef", "R2"),
    (
        "DTE_REF_SINGLE_REQUIRED",
        _E,
        "Anulación o corrección de texto con más de un documento",
        "R3",
    ),
    (
        "DTE_REF_FOLIO_INVALID",
        _E,
        "FolioRef 0 sin IndGlobal o alfanumérico en doc. tributario",
        "R5",
    ),
    ("DTE_REF_RUTOTR_NOT_ALLOWED", _E, "RUTOtr no permitido en este tipo o igual al emisor", "R6"),
    ("DTE_REF_NUMBERING", _E, "NroLinRef no es correlativo 1..n", "R7"),
    (
        "DTE_REF_DATE_AFTER_EMISSION",
        _W,
        "Documento referenciado con fecha posterior a la nota",
        "R8",
    ),
    # Dates (§2.6)
    ("DTE_DATE_FUTURE", _E, "Fecha de emisión en el futuro", "F3"),
    ("DTE_DATE_OLD", _W, "Fecha de emisión muy antigua", "F5"),
    ("DTE_DATE_RANGE", _E, "Fecha fuera del rango aceptado por el SII", "F1, F2, R7"),
    ("DTE_DUE_BEFORE_EMISSION", _W, "Vencimiento anterior a la emisión", "F4"),
    ("DTE_PERIOD_INVALID", _E, "PeriodoDesde posterior a PeriodoHasta", "F2"),
    # Folio / CAF / TED (§2.7, F6, F7)
    ("DTE_FOLIO_OUTSIDE_CAF", _E, "Folio fuera del rango autorizado por el CAF", "§2.7"),
    ("DTE_CAF_MISMATCH", _E, "CAF de otro emisor o de otro tipo de documento", "§2.7"),
    ("DTE_CAF_EXPIRED", _E, "CAF vencido (más de 6 meses desde su autorización)", "F6"),
    ("DTE_CAF_AFTER_EMISSION", _E, "Emisión anterior a la autorización del CAF", "F7"),
    ("DTE_TED_MISMATCH", _E, "El timbre (TED) no coincide con el documento", "§2.7"),
    # Vendor history
    ("DTE_DUPLICATE_FOLIO", _E, "Folio ya recibido de este emisor para el mismo tipo", "§2.7"),
    (
        "DTE_TOTAL_UNUSUAL",
        _W,
        "Monto total muy superior a lo habitual del proveedor",
        "service policy",
    ),
)

CATALOGUE: Final[dict[str, CodeInfo]] = {
    code: CodeInfo(code, severity, meaning, source) for code, severity, meaning, source in _ROWS
}
