"""The admin ``PUT``'s published schema states every rule a value obeys on its own; what it
cannot state is a 422 whose problems say so (``kind``)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from quipu_previred.keys import KEY_SPECS
from quipu_previred.openapi import json_number
from quipu_previred.validation import BOUNDS, KEY_BOUNDS

PUT = "/api/payroll/indicators/{period}"
#: A month with shipped values: a single value may be loaded on its own.
SHIPPED = "2026-06"


async def _published_body(previred_app: Any, quipu_client: Any) -> dict[str, Any]:
    async with quipu_client(previred_app()) as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"][PUT]["put"]
    body: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(operation["responses"]["422"]["content"]["application/json"]["schema"]) == {"$ref"}
    return body


def _published(flat: dict[str, Any], key: str) -> dict[str, Any]:
    """The schema a flat key's value must match: its property, else its one pattern."""
    if key in flat["properties"]:
        assert not any(re.search(pattern, key) for pattern in flat["patternProperties"]), key
        found: dict[str, Any] = flat["properties"][key]
        return found
    families = [s for p, s in flat["patternProperties"].items() if re.search(p, key)]
    assert len(families) == 1, key
    family: dict[str, Any] = families[0]
    return family


async def test_every_bound_is_published_in_the_put_schema(
    previred_app: Any, quipu_client: Any
) -> None:
    body = await _published_body(previred_app, quipu_client)
    flat, wrapped = body["oneOf"]
    assert wrapped["properties"]["indicators"] == flat
    assert wrapped["additionalProperties"] is flat["additionalProperties"] is False
    assert set(BOUNDS) <= set(KEY_BOUNDS) == set(KEY_SPECS)
    assert set(flat["properties"]) <= set(KEY_SPECS) | {"period"}
    for key, (low, high) in KEY_BOUNDS.items():
        published = _published(flat, key)
        assert (published["minimum"], published["maximum"]) == (json_number(low), json_number(high))
        assert Decimal(str(published["minimum"])) == low, key
        assert Decimal(str(published["maximum"])) == high, key
        assert published["type"] == ["number", "null"]
    for key, bounds in BOUNDS.items():  # the table range_check reads
        assert KEY_BOUNDS[key] == bounds


async def test_a_value_the_schema_allows_is_never_refused_for_itself(
    previred_app: Any, quipu_client: Any
) -> None:
    """Each key at its published limits: loaded, or refused only as a relation; a hair
    beyond: refused as a ``schema`` problem naming that key."""
    flat = (await _published_body(previred_app, quipu_client))["oneOf"][0]
    refused: dict[str, set[str]] = {}
    beyond: dict[str, list[str]] = {}
    url = PUT.format(period=SHIPPED)
    async with quipu_client(previred_app()) as client:
        for key in KEY_SPECS:
            low, high = _published(flat, key)["minimum"], _published(flat, key)["maximum"]
            for value in (low, high):
                answer = await client.put(url, json={key: value})
                if answer.status_code != 200:
                    assert answer.status_code == 422, (key, value, answer.text)
                    refused[f"{key}={value}"] = {e["kind"] for e in answer.json()["errors"]}
            answer = await client.put(url, json={key: high * 1.001 + 0.001})
            assert answer.status_code == 422
            beyond[key] = [e["field"] for e in answer.json()["errors"] if e["kind"] == "schema"]
    assert all(kinds == {"relation"} for kinds in refused.values()), refused
    assert refused  # e.g. afc_tope_uf=100 is not above the shipped afp_tope_uf
    assert beyond == {key: [key] for key in KEY_SPECS}


async def test_values_that_disagree_are_422_relation_with_keys_and_a_fix(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        swapped = await client.put(
            f"/api/payroll/indicators/{SHIPPED}", json={"uf": 59000, "utm": 51000}
        )
        other_month = await client.put(
            f"/api/payroll/indicators/{SHIPPED}",
            json={"indicators": {"uf": 40711.08}, "period": "2026-07"},
        )
        orphan = await client.put(
            f"/api/payroll/indicators/{SHIPPED}", json={"asig_fam_tramo_1_hasta": 700000}
        )
        after = await client.get(f"/api/payroll/indicators/{SHIPPED}")
    assert swapped.status_code == other_month.status_code == orphan.status_code == 422
    error = swapped.json()["errors"][0]
    assert error["kind"] == "relation"
    assert error["fields"] == ["utm", "uf"]
    assert "utm/uf=0.864" in error["message"]
    assert "concuerden" in error["fix"]
    assert "Cómo corregir" in swapped.json()["detail"]
    assert swapped.json()["request_id"]
    assert [(e["kind"], e["field"]) for e in other_month.json()["errors"]] == [
        ("relation", "period")
    ]
    assert [e["kind"] for e in orphan.json()["errors"]] == ["relation"]
    assert orphan.json()["errors"][0]["fields"] == ["asig_fam_tramo_1_hasta", "asig_fam_tramo_1"]
    assert after.json()["metadata"]["source"] == "published"


async def test_a_month_without_shipped_values_says_which_keys_it_needs(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.put("/api/payroll/indicators/2026-09", json={"uf": 40850.33})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["kind"], e["field"]) for e in errors} == {
        ("missing_for_period", "utm"),
        ("missing_for_period", "uta"),
        ("missing_for_period", "sueldo_minimo"),
    }
    assert "uf, utm, uta, sueldo_minimo" in errors[0]["fix"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"uf": "39179.01"}, "uf", "debe ser un número JSON"),
        ({"uf": True}, "uf", "debe ser un número JSON"),
        ({"fonasa_pct": 7.5}, "fonasa_pct", "fuera de rango [7, 7]"),
        ({"uf": None}, None, "todos los valores son null"),
        ({"period": SHIPPED}, None, "no se enviaron indicadores"),
        ({"indicators": {"uf": 40000}, "note": "x" * 501}, "note", "hasta 500 caracteres"),
        ({"indicators": {"uf": 40000}, "period": "junio"}, "period", "YYYY-MM"),
        ([{"uf": 40000}], None, "se esperaba un objeto JSON"),
    ],
)
async def test_what_the_schema_refuses_is_422_schema(
    previred_app: Any, quipu_client: Any, body: Any, field: str | None, words: str
) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.put(f"/api/payroll/indicators/{SHIPPED}", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["kind"], e["field"]) for e in errors] == [("schema", field)]
    assert words in errors[0]["message"]
    assert "esquema OpenAPI" in errors[0]["fix"]


async def test_a_body_that_is_not_json_is_400(previred_app: Any, quipu_client: Any) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.put(
            f"/api/payroll/indicators/{SHIPPED}",
            content=b'{"uf": 40000',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
