"""Golden comparison of DTE check results: same inputs, byte-identical reports.

Writes one line per case (``index<TAB>sha256 of the msgspec-encoded result``) for

* a seeded corpus built here from the test builders (``plugins/dte/tests/dte_builders.py``):
  every builder as SII JSON, XML (with and without namespace) and, where it applies, Odoo's
  flat form, each also with hundreds of seeded one-field mutations (amounts ±1/×2/0/absent,
  RUT spellings, dates, types, codes), run under several rule configs and dates;
* optionally, a corpus recorded from the DTE test suite by ``perf/dte_golden_record.py``
  (raw request inputs and every rule-engine run with its config and history).

Each case runs :func:`quipu_dte.service.check` (or the parse error it raises) and
:func:`quipu_dte.service.settle_without_review`, or :func:`quipu_dte.rules.validate` for
recorded engine runs, and hashes the msgspec encoding. Run it on the base code
(``PYTHONPATH=<base>/plugins/dte/src``) and on the change, then ``diff`` the two outputs.

Usage: ``.venv/bin/python perf/dte_golden.py OUT [RECORDED.pickle]``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import random
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "dte" / "tests"))

import dte_builders as b
from quipu_dte.config import DteConfig
from quipu_dte.errors import DteInputError
from quipu_dte.rules import validate
from quipu_dte.service import DteRuntime, check, settle_without_review

_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_TODAYS = (b.TODAY, date(2026, 3, 1), date(2025, 10, 19))
_RUNTIMES = [
    DteRuntime.build("dte", DteConfig()),
    DteRuntime.build("dte", DteConfig(tolerance=2, ai_review="always")),
    DteRuntime.build(
        "dte",
        msgspec.convert(
            {
                "require_ai_review": True,
                "rules": {
                    "iva_rate": "19.5",
                    "line_tolerance": 1,
                    "future_tolerance_days": 2,
                    "disabled_codes": ["DTE_IVA_MISMATCH", "DTE_RUT_CHECK_DIGIT"],
                    "severity_overrides": {"DTE_TOTAL_MISMATCH": "warning"},
                },
            },
            DteConfig,
        ),
    ),
]
_BUILDERS = [
    b.factura_33,
    b.nota_credito_61,
    b.factura_exenta_34,
    b.boleta_39,
    b.guia_52,
    b.factura_33_con_impuesto,
    b.factura_compra_46,
    b.exportacion_110,
    b.nota_credito_exportacion_112,
    lambda: b.factura_lineas(60),
]
_RUTS = ["76.354.771-K", "76354771-k", "76354771K", "0076354771-K", "76354771-5", "1-9", "x", ""]
_STRINGS = ["", "2025-13-01", "2025-10-30", "2024-01-01", "abc", "33", "61", "-1", "0", "1.5", "7"]
_STRINGS += ["Ñ" * 101, "u" * 1001]  # over every text limit
_HISTORY = [
    {"tipo_dte": 33, "folio": f, "fecha_emision": "2025-09-01", "monto_total": t}
    for f, t in ((100, 5000), (101, 7000), (102, 9000), (12345, 119000), (170, 1000))
]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    leaves = list(_leaves(out))
    path, value = rng.choice(leaves)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    choice = rng.random()
    if choice < 0.15 and isinstance(parent, dict):
        del parent[last]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parent[last] = rng.choice([value + 1, value - 1, value * 2, 0, -value, value + 0.5])
    elif isinstance(value, str) and ("RUT" in str(last) or "rut" in str(last) or last == "RE"):
        parent[last] = rng.choice(_RUTS)
    else:
        parent[last] = rng.choice([*_STRINGS, value])
    return out


def _flat_variants() -> list[dict[str, Any]]:
    base = b.flat_odoo()
    out = [base]
    for tipo, neto, exe, iva, total in (
        ("34", None, 50000, None, 50000),
        ("61", 100000, 0, 19000, 119000),
        ("39", None, None, None, 119000),
        ("33", 100000, 5000, 19000, 124000),
        ("56", 0, 0, 0, 0),
    ):
        doc = dict(base, tipo_dte=tipo, monto_neto=neto, monto_exento=exe, monto_iva=iva)
        doc["monto_total"] = total
        out.append({k: v for k, v in doc.items() if v is not None})
    out.append(
        dict(
            base,
            tipo_dte="61",
            referencias=[{"tipo_doc": "33", "folio": "170", "fecha": "2025-10-01", "cod_ref": 1}],
        )
    )
    out.append(dict(base, caf={"desde": 1, "hasta": 20000, "fecha_autorizacion": "2025-01-01"}))
    out.append(dict(base, rut_receptor="96.790.240-3", razon_social_receptor="Cliente"))
    out.append(dict(base, rut_receptor=base["rut_emisor"]))
    return out


def builder_corpus(seed: int = 12) -> list[tuple[Any, Any]]:
    """(dte_data, history) pairs: builders, their XML, flat variants, seeded mutations."""
    rng = random.Random(seed)
    docs = [build() for build in _BUILDERS]
    inputs: list[Any] = []
    for doc in docs:
        inputs += [doc, {"dte_xml": b.dte_xml(doc)}, {"dte_xml": b.dte_xml(doc, namespace=False)}]
        for _ in range(40):
            mutated = _mutate(doc, rng)
            inputs.append(mutated)
            inputs.append({"dte_xml": b.dte_xml(mutated)})
    for flat in _flat_variants():
        inputs.append(flat)
        for _ in range(40):
            inputs.append(_mutate(flat, rng))
    histories: list[Any] = [None, [], _HISTORY, [{"folio": "x"}]]
    return [(item, histories[i % len(histories)]) for i, item in enumerate(inputs)]


def _encode_check(runtime: DteRuntime, dte_data: Any, history: Any, today: date) -> bytes:
    try:
        checked = check(runtime, copy.deepcopy(dte_data), history, today)
    except DteInputError as exc:
        return _ENCODER.encode(["error", exc.problems])
    parts = [checked.reports, list(checked.documents)]
    for ready in (False, True):
        parts.append(settle_without_review(runtime, checked, ready))
    return _ENCODER.encode(parts)


def cases(recorded: Path | None) -> Iterator[bytes]:
    """Every case's encoded result, in a fixed order."""
    for index, (dte_data, history) in enumerate(builder_corpus()):
        runtime = _RUNTIMES[index % len(_RUNTIMES)]
        yield _encode_check(runtime, dte_data, history, _TODAYS[index % len(_TODAYS)])
        if index % 5 == 0:  # every fifth input under every config and date too
            for other in _RUNTIMES:
                for today in _TODAYS:
                    yield _encode_check(other, dte_data, history, today)
    if recorded is None:
        return
    data = pickle.loads(recorded.read_bytes())  # noqa: S301 - our own recording
    for dte_data, history in data["raw"]:
        for today in _TODAYS[:2]:
            yield _encode_check(_RUNTIMES[0], dte_data, history, today)
    for doc, today, history, config in data["validations"]:
        report = validate(doc, today=today, history=history, config=config)
        yield _ENCODER.encode(report)


def main() -> None:
    """Write ``index<TAB>digest`` lines to argv[1]."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Documents hold frozensets, encoded in iteration order: fix the string hash seed.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606
    out = Path(sys.argv[1])
    recorded = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    lines = []
    for index, encoded in enumerate(cases(recorded)):
        lines.append(f"{index}\t{hashlib.sha256(encoded).hexdigest()}\t{len(encoded)}")
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} cases written to {out}")


if __name__ == "__main__":
    main()
