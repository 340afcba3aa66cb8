"""Schemathesis against quipu's own OpenAPI schema: every route, a bounded budget.

The schema is the assembled app's (every installed plugin, this suite's ``platform.toml``),
built in-process at collection; the requests go to a live ``quipu serve`` (Granian, real
Redis, the Anthropic emulator) with the full-access key. Each operation gets
``QUIPU_FUZZ_EXAMPLES`` cases (default 40), schema-valid and schema-violating, derandomised
so CI is reproducible (set ``QUIPU_FUZZ_SEED`` to explore other cases locally).

Injected: generated bodies, path and query values, valid and invalid. The client must see:
no 5xx; every answer's status, content type, headers and body valid against the schema
(errors included: ``QuipuError``); invalid input refused; auth not ignored.

Checks left out, and why:

- ``positive_data_acceptance``: quipu validates meaning the schema cannot express (a DTE
  must be a readable document, a slip needs lines, a period is ``YYYY-MM``, a message is
  not blank), so schema-valid input is legitimately refused with 400/422.
- ``allow_header_conformance``: Litestar's automatic ``OPTIONS`` answer lists only the
  methods of the first handler of a path (its 405 answers list them all); ``OPTIONS`` is
  not part of quipu's API.
- ``negative_data_rejection`` for cases that repeat a scalar query parameter
  (``?company=a&company=b``): Litestar reads one value, which schemathesis counts as
  accepting invalid data. Every other invalid case is still checked.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from platform_kit import CONFIG, FULL, LLM_CONFIG
from schemathesis.checks import CHECKS

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("QUIPU_FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("QUIPU_FUZZ_SEED")


def assembled_openapi() -> dict[str, Any]:
    """The OpenAPI document of the app ``live_quipu`` serves (same config, same plugins)."""
    from quipu.app import create_app
    from quipu.config import load_settings

    with tempfile.TemporaryDirectory(prefix="quipu-fuzz-") as folder:
        path = Path(folder) / "platform.toml"
        path.write_text(CONFIG + LLM_CONFIG)
        app = create_app(load_settings(path, env={}))
    document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


schema = schemathesis.openapi.from_dict(assembled_openapi())
schema.config.generation.update(max_examples=EXAMPLES, allow_extra_parameters=False)
ALWAYS_EXCLUDED = [
    CHECKS.get_one("positive_data_acceptance"),
    CHECKS.get_one("allow_header_conformance"),
]
NEGATIVE_REJECTION = CHECKS.get_one("negative_data_rejection")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_route_answers_within_its_schema(
    case: Any, live_quipu: Any, anthropic_emulator: Any
) -> None:
    """Generated requests (valid and invalid) → no 5xx, answers as documented.

    ``anthropic_emulator`` resets the shared emulator first: faults or slow replies left by
    an earlier test would otherwise show up here as 502/504 from the LLM-backed routes.
    """
    excluded = list(ALWAYS_EXCLUDED)
    if any(isinstance(value, list) for value in (case.query or {}).values()):
        excluded.append(NEGATIVE_REJECTION)
    case.call_and_validate(
        base_url=live_quipu.url, headers=FULL, excluded_checks=excluded, timeout=30
    )
